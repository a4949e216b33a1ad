# METADATA
# title: OpenSearch domains encrypt traffic between nodes
# description: |
#   Without node-to-node encryption, data moves between the domain's nodes in clear inside the
#   VPC. A domain without a `node_to_node_encryption` block does not encrypt it.
# custom:
#   id: aws-opensearch-node-to-node-encryption
#   level: error
#   resource_types: [aws_opensearch_domain, aws_elasticsearch_domain]
#   remediation: Add `node_to_node_encryption { enabled = true }` to the domain.
#   checkov: [CKV_AWS_6]
#   trivy: [AVD-AWS-0043]
package planguard.encryption.opensearch_node_to_node_encryption

import data.planguard.encryption.helpers
import data.planguard.lib
import rego.v1

attr := ["node_to_node_encryption", 0, "enabled"]

domains := array.concat(lib.changes("aws_opensearch_domain"), lib.changes("aws_elasticsearch_domain"))

deny contains lib.result(rc, sprintf("%s: domain does not encrypt node-to-node traffic (node_to_node_encryption.enabled = false%s)", [rc.address, helpers.default_note(rc, attr)])) if {
	some rc in domains
	helpers.setting(rc, attr, false) == false
}

warn contains lib.unknown_result(rc, "`node_to_node_encryption.enabled`") if {
	some rc in domains
	helpers.pending(rc, attr)
}

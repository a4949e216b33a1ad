# METADATA
# title: OpenSearch domains are encrypted at rest
# description: |
#   Without encryption at rest, indices, automated snapshots, logs and swap files are stored in
#   clear. A domain without an `encrypt_at_rest` block is not encrypted.
# custom:
#   id: aws-opensearch-encryption-at-rest
#   level: error
#   resource_types: [aws_opensearch_domain, aws_elasticsearch_domain]
#   remediation: Add `encrypt_at_rest { enabled = true }` (and optionally `kms_key_id`) to the domain.
#   checkov: [CKV_AWS_5]
#   trivy: [AVD-AWS-0048]
package planguard.encryption.opensearch_encryption_at_rest

import data.planguard.encryption.helpers
import data.planguard.lib
import rego.v1

attr := ["encrypt_at_rest", 0, "enabled"]

domains := array.concat(lib.changes("aws_opensearch_domain"), lib.changes("aws_elasticsearch_domain"))

deny contains lib.result(rc, sprintf("%s: domain is not encrypted at rest (encrypt_at_rest.enabled = false%s)", [rc.address, helpers.default_note(rc, attr)])) if {
	some rc in domains
	helpers.setting(rc, attr, false) == false
}

warn contains lib.unknown_result(rc, "`encrypt_at_rest.enabled`") if {
	some rc in domains
	helpers.pending(rc, attr)
}

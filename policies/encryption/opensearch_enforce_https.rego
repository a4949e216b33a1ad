# METADATA
# title: OpenSearch domains require HTTPS
# description: |
#   A domain that does not enforce HTTPS accepts plain HTTP requests, exposing queries, documents
#   and credentials on the network. Without a `domain_endpoint_options` block AWS does not
#   enforce HTTPS.
# custom:
#   id: aws-opensearch-enforce-https
#   level: error
#   resource_types: [aws_opensearch_domain, aws_elasticsearch_domain]
#   remediation: Add `domain_endpoint_options { enforce_https = true, tls_security_policy = "Policy-Min-TLS-1-2-2019-07" }` to the domain.
#   checkov: [CKV_AWS_83]
#   trivy: [AVD-AWS-0046]
package planguard.encryption.opensearch_enforce_https

import data.planguard.encryption.helpers
import data.planguard.lib
import rego.v1

attr := ["domain_endpoint_options", 0, "enforce_https"]

domains := array.concat(lib.changes("aws_opensearch_domain"), lib.changes("aws_elasticsearch_domain"))

deny contains lib.result(rc, sprintf("%s: domain does not enforce HTTPS (domain_endpoint_options.enforce_https = false%s)", [rc.address, helpers.default_note(rc, attr)])) if {
	some rc in domains
	helpers.setting(rc, attr, default_value(rc)) == false
}

warn contains lib.unknown_result(rc, "`domain_endpoint_options.enforce_https`") if {
	some rc in domains
	helpers.pending(rc, attr)
}

# Inside a domain_endpoint_options block the provider defaults enforce_https to true; without
# the block AWS does not enforce HTTPS.
default_value(rc) := true if {
	helpers.set_in_config(rc, ["domain_endpoint_options"])
} else := false

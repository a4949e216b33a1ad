# METADATA
# title: MSK clusters encrypt traffic in transit
# description: |
#   MSK always encrypts data at rest (with an AWS managed key unless
#   `encryption_at_rest_kms_key_arn` names a customer managed one), but plaintext listeners let
#   producers and consumers exchange records in clear, and in_cluster = false does the same
#   between brokers. The defaults (TLS, in-cluster encryption on) are secure.
# custom:
#   id: aws-msk-in-transit-encryption
#   level: error
#   resource_types: [aws_msk_cluster]
#   remediation: In `encryption_info { encryption_in_transit { ... } }` set `client_broker = "TLS"` and `in_cluster = true`, or leave both unset (those are the defaults).
#   checkov: [CKV_AWS_81]
#   trivy: [AVD-AWS-0073]
package planguard.encryption.msk_in_transit_encryption

import data.planguard.encryption.helpers
import data.planguard.lib
import rego.v1

client_broker := ["encryption_info", 0, "encryption_in_transit", 0, "client_broker"]

in_cluster := ["encryption_info", 0, "encryption_in_transit", 0, "in_cluster"]

deny contains lib.result(rc, sprintf("%s: cluster accepts plaintext client connections (encryption_in_transit.client_broker = \"%s\")", [rc.address, mode])) if {
	some rc in lib.changes("aws_msk_cluster")
	mode := helpers.setting(rc, client_broker, "TLS")
	upper(mode) != "TLS"
}

deny contains lib.result(rc, sprintf("%s: brokers replicate data in clear (encryption_in_transit.in_cluster = false)", [rc.address])) if {
	some rc in lib.changes("aws_msk_cluster")
	helpers.setting(rc, in_cluster, true) == false
}

warn contains lib.unknown_result(rc, sprintf("`encryption_in_transit.%s`", [path[count(path) - 1]])) if {
	some rc in lib.changes("aws_msk_cluster")
	some path in [client_broker, in_cluster]
	helpers.pending(rc, path)
}

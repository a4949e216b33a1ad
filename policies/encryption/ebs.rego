# METADATA
# title: EBS volumes are encrypted at rest
# description: |
#   An unencrypted EBS volume stores its data, and every snapshot taken from it, in clear.
#   Encryption cannot be turned on for an existing volume without replacing it, so catch it
#   before the volume is created.
# custom:
#   id: aws-ebs-encryption
#   level: error
#   resource_types: [aws_ebs_volume]
#   remediation: Set `encrypted = true` on the volume (and optionally `kms_key_id`), or enable account-wide default encryption with `aws_ebs_encryption_by_default`.
#   checkov: [CKV_AWS_3]
#   trivy: [AVD-AWS-0026]
package planguard.encryption.ebs

import data.planguard.lib
import rego.v1

deny contains lib.result(rc, sprintf("%s: EBS volume is not encrypted (encrypted = false)", [rc.address])) if {
	some rc in lib.changes("aws_ebs_volume")
	not lib.unknown(rc, ["encrypted"])
	not lib.value(rc, ["encrypted"], false)
}

warn contains lib.unknown_result(rc, "`encrypted`") if {
	some rc in lib.changes("aws_ebs_volume")
	lib.unknown(rc, ["encrypted"])
}

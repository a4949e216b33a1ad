# METADATA
# title: EBS volumes are encrypted at rest
# description: |
#   An unencrypted EBS volume stores its data, and every snapshot taken from it, in clear.
#   Encryption cannot be turned on for an existing volume without replacing it, so catch it
#   before the volume is created. A volume that leaves `encrypted` unset is encrypted only if
#   its snapshot is or the account's EBS default encryption is on in that region.
# custom:
#   id: aws-ebs-encryption
#   level: error
#   resource_types: [aws_ebs_volume]
#   context_types: [aws_ebs_encryption_by_default]
#   remediation: Set `encrypted = true` on the volume (and optionally `kms_key_id`), or enable account-wide default encryption with `aws_ebs_encryption_by_default` (or set the planguard option `ebs_default_encryption` when it is enabled outside this configuration).
#   checkov: [CKV_AWS_3]
#   trivy: [AVD-AWS-0026]
package planguard.encryption.ebs_encryption

import data.planguard.encryption.helpers
import data.planguard.lib
import rego.v1

deny contains lib.result(rc, sprintf("%s: EBS volume is not encrypted (encrypted = false)", [rc.address])) if {
	some rc in lib.changes("aws_ebs_volume")
	helpers.known(rc, ["encrypted"]) == false
}

deny contains lib.result(rc, msg) if {
	some rc in lib.changes("aws_ebs_volume")
	helpers.defaulted(rc, ["encrypted"])
	not helpers.ebs_default_on(rc)
	msg := sprintf("%s: EBS volume does not set encrypted = true, so only an encrypted snapshot or the account's EBS default encryption would encrypt it, and %s", [rc.address, helpers.ebs_default_reason(rc)])
}

warn contains lib.unknown_result(rc, "`encrypted`") if {
	some rc in lib.changes("aws_ebs_volume")
	helpers.pending(rc, ["encrypted"])
}

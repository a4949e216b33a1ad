# METADATA
# title: EFS file systems are encrypted at rest
# description: |
#   The EFS API creates an unencrypted file system unless `encrypted` is set, and encryption
#   cannot be turned on for an existing file system: the data has to be copied to a new one.
# custom:
#   id: aws-efs-encryption
#   level: error
#   resource_types: [aws_efs_file_system]
#   remediation: Set `encrypted = true` (and optionally `kms_key_id`) on the file system.
#   checkov: [CKV_AWS_42]
#   trivy: [AVD-AWS-0037]
package planguard.encryption.efs_encryption

import data.planguard.encryption.helpers
import data.planguard.lib
import rego.v1

deny contains lib.result(rc, sprintf("%s: EFS file system is not encrypted (encrypted = false%s)", [rc.address, helpers.default_note(rc, ["encrypted"])])) if {
	some rc in lib.changes("aws_efs_file_system")
	helpers.setting(rc, ["encrypted"], false) == false
}

warn contains lib.unknown_result(rc, "`encrypted`") if {
	some rc in lib.changes("aws_efs_file_system")
	helpers.pending(rc, ["encrypted"])
}

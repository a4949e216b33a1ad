# METADATA
# title: RDS instances encrypt their storage
# description: |
#   An unencrypted RDS instance keeps its data, automated backups, snapshots and read replicas
#   in clear, and encryption cannot be turned on later without restoring into a new instance.
#   `storage_encrypted` defaults to false.
# custom:
#   id: aws-rds-instance-encryption
#   level: error
#   resource_types: [aws_db_instance]
#   remediation: Set `storage_encrypted = true` (and optionally `kms_key_id`) on the instance; for an existing instance, restore an encrypted snapshot copy into a new one.
#   checkov: [CKV_AWS_16]
#   trivy: [AVD-AWS-0080]
package planguard.encryption.rds_instance_encryption

import data.planguard.encryption.helpers
import data.planguard.lib
import rego.v1

attr := ["storage_encrypted"]

deny contains lib.result(rc, sprintf("%s: RDS instance storage is not encrypted (storage_encrypted = false%s)", [rc.address, helpers.default_note(rc, attr)])) if {
	some rc in lib.changes("aws_db_instance")
	not replica(rc)
	not helpers.given(rc, ["snapshot_identifier"])
	helpers.setting(rc, attr, false) == false
}

warn contains lib.result(rc, msg) if {
	some rc in lib.changes("aws_db_instance")
	not replica(rc)
	helpers.given(rc, ["snapshot_identifier"])
	helpers.setting(rc, attr, false) == false
	msg := helpers.restored_message(rc, "storage_encrypted", "snapshot_identifier")
}

warn contains lib.unknown_result(rc, "`storage_encrypted`") if {
	some rc in lib.changes("aws_db_instance")
	not replica(rc)
	helpers.pending(rc, attr)
}

# A read replica takes its encryption from its source instance, which is checked where it is
# declared.
replica(rc) if helpers.given(rc, ["replicate_source_db"])

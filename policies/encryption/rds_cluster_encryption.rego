# METADATA
# title: RDS and Aurora clusters encrypt their storage
# description: |
#   An unencrypted cluster keeps its data, backups and snapshots in clear, and encryption cannot
#   be turned on later without restoring into a new cluster. `storage_encrypted` defaults to
#   false, except for Aurora Serverless v1 (engine_mode = "serverless"), which is always encrypted.
# custom:
#   id: aws-rds-cluster-encryption
#   level: error
#   resource_types: [aws_rds_cluster]
#   remediation: Set `storage_encrypted = true` (and optionally `kms_key_id`) on the cluster; for an existing cluster, restore an encrypted snapshot copy into a new one.
#   checkov: [CKV_AWS_96]
#   trivy: [AVD-AWS-0079]
package planguard.encryption.rds_cluster_encryption

import data.planguard.encryption.helpers
import data.planguard.lib
import rego.v1

attr := ["storage_encrypted"]

deny contains lib.result(rc, sprintf("%s: cluster storage is not encrypted (storage_encrypted = false%s)", [rc.address, helpers.default_note(rc, attr)])) if {
	some rc in lib.changes("aws_rds_cluster")
	not member(rc)
	not restored(rc)
	helpers.setting(rc, attr, default_encrypted(rc)) == false
}

warn contains lib.result(rc, msg) if {
	some rc in lib.changes("aws_rds_cluster")
	not member(rc)
	restored(rc)
	helpers.setting(rc, attr, default_encrypted(rc)) == false
	msg := restore_message(rc)
}

warn contains lib.unknown_result(rc, "`storage_encrypted`") if {
	some rc in lib.changes("aws_rds_cluster")
	not member(rc)
	helpers.pending(rc, attr)
}

# Aurora Serverless v1 clusters are always encrypted.
default_encrypted(rc) := true if {
	helpers.known(rc, ["engine_mode"]) == "serverless"
} else := false

# A cross-region read replica or a member of a global database takes its encryption from its
# source, which is checked where it is declared, unless it says otherwise itself.
member(rc) if {
	some source in ["replication_source_identifier", "global_cluster_identifier"]
	helpers.given(rc, [source])
	not says_unencrypted(rc)
}

# (A rule of its own, so that `not` applies to the comparison whether or not the value is
# known; OPA hoists a function call out of a negation.)
says_unencrypted(rc) if helpers.known(rc, attr) == false

restored(rc) if helpers.given(rc, ["snapshot_identifier"])

restored(rc) if helpers.given(rc, ["restore_to_point_in_time"])

restore_message(rc) := helpers.restored_message(rc, "storage_encrypted", "snapshot_identifier") if {
	helpers.given(rc, ["snapshot_identifier"])
} else := sprintf("%s: storage_encrypted is not true, so it takes the encryption of the cluster it is restored from (restore_to_point_in_time), which the plan cannot show", [rc.address])

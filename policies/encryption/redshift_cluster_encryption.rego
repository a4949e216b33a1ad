# METADATA
# title: Redshift clusters are encrypted at rest
# description: |
#   An unencrypted Redshift cluster keeps the warehouse data, its backups and snapshots in clear.
#   In provider v5 `encrypted` defaults to false, and applying that to a cluster AWS encrypted
#   by default would turn encryption off.
# custom:
#   id: aws-redshift-cluster-encryption
#   level: error
#   resource_types: [aws_redshift_cluster]
#   remediation: Set `encrypted = true` (and optionally `kms_key_id`) on the cluster.
#   checkov: [CKV_AWS_64]
#   trivy: [AVD-AWS-0084]
package planguard.encryption.redshift_cluster_encryption

import data.planguard.encryption.helpers
import data.planguard.lib
import rego.v1

attr := ["encrypted"]

deny contains lib.result(rc, sprintf("%s: Redshift cluster is not encrypted (encrypted = false%s)", [rc.address, helpers.default_note(rc, attr)])) if {
	some rc in lib.changes("aws_redshift_cluster")
	not helpers.given(rc, ["snapshot_identifier"])
	helpers.setting(rc, attr, false) == false
}

warn contains lib.result(rc, msg) if {
	some rc in lib.changes("aws_redshift_cluster")
	helpers.given(rc, ["snapshot_identifier"])
	helpers.setting(rc, attr, false) == false
	msg := helpers.restored_message(rc, "encrypted", "snapshot_identifier")
}

warn contains lib.unknown_result(rc, "`encrypted`") if {
	some rc in lib.changes("aws_redshift_cluster")
	helpers.pending(rc, attr)
}

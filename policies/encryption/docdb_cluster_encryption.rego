# METADATA
# title: DocumentDB clusters encrypt their storage
# description: |
#   An unencrypted DocumentDB cluster keeps its data, backups and snapshots in clear;
#   `storage_encrypted` defaults to false and cannot be changed after the cluster is created.
# custom:
#   id: aws-docdb-cluster-encryption
#   level: error
#   resource_types: [aws_docdb_cluster]
#   remediation: Set `storage_encrypted = true` (and optionally `kms_key_id`) on the cluster.
#   checkov: [CKV_AWS_74]
#   trivy: [AVD-AWS-0021]
package planguard.encryption.docdb_cluster_encryption

import data.planguard.encryption.helpers
import data.planguard.lib
import rego.v1

attr := ["storage_encrypted"]

deny contains lib.result(rc, sprintf("%s: DocumentDB cluster storage is not encrypted (storage_encrypted = false%s)", [rc.address, helpers.default_note(rc, attr)])) if {
	some rc in lib.changes("aws_docdb_cluster")
	not member(rc)
	not helpers.given(rc, ["snapshot_identifier"])
	helpers.setting(rc, attr, false) == false
}

warn contains lib.result(rc, msg) if {
	some rc in lib.changes("aws_docdb_cluster")
	not member(rc)
	helpers.given(rc, ["snapshot_identifier"])
	helpers.setting(rc, attr, false) == false
	msg := helpers.restored_message(rc, "storage_encrypted", "snapshot_identifier")
}

warn contains lib.unknown_result(rc, "`storage_encrypted`") if {
	some rc in lib.changes("aws_docdb_cluster")
	not member(rc)
	helpers.pending(rc, attr)
}

# A secondary cluster of a global cluster takes its encryption from the global cluster.
member(rc) if {
	helpers.given(rc, ["global_cluster_identifier"])
	helpers.defaulted(rc, attr)
}

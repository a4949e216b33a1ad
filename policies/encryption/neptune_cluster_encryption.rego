# METADATA
# title: Neptune clusters encrypt their storage
# description: |
#   An unencrypted Neptune cluster keeps its graph data, backups and snapshots in clear;
#   `storage_encrypted` defaults to false and cannot be changed after the cluster is created.
# custom:
#   id: aws-neptune-cluster-encryption
#   level: error
#   resource_types: [aws_neptune_cluster]
#   remediation: Set `storage_encrypted = true` (and optionally `kms_key_arn`) on the cluster.
#   checkov: [CKV_AWS_44]
#   trivy: [AVD-AWS-0076]
package planguard.encryption.neptune_cluster_encryption

import data.planguard.encryption.helpers
import data.planguard.lib
import rego.v1

attr := ["storage_encrypted"]

deny contains lib.result(rc, sprintf("%s: Neptune cluster storage is not encrypted (storage_encrypted = false%s)", [rc.address, helpers.default_note(rc, attr)])) if {
	some rc in lib.changes("aws_neptune_cluster")
	not member(rc)
	not helpers.given(rc, ["snapshot_identifier"])
	helpers.setting(rc, attr, false) == false
}

warn contains lib.result(rc, msg) if {
	some rc in lib.changes("aws_neptune_cluster")
	not member(rc)
	helpers.given(rc, ["snapshot_identifier"])
	helpers.setting(rc, attr, false) == false
	msg := helpers.restored_message(rc, "storage_encrypted", "snapshot_identifier")
}

warn contains lib.unknown_result(rc, "`storage_encrypted`") if {
	some rc in lib.changes("aws_neptune_cluster")
	not member(rc)
	helpers.pending(rc, attr)
}

# A read replica or secondary cluster takes its encryption from its source unless it sets
# storage_encrypted itself.
member(rc) if {
	some source in ["replication_source_identifier", "global_cluster_identifier"]
	helpers.given(rc, [source])
	not set_explicitly(rc)
}

set_explicitly(rc) if helpers.set_in_config(rc, attr)

set_explicitly(rc) if {
	not lib.config_block(rc)
	helpers.known(rc, attr) != null
}

# METADATA
# title: Stateful resources are not deleted or replaced without approval
# description: |
#   Deleting or replacing a database, bucket, volume, file system, network, key, zone, secret
#   or backup vault destroys data (or an identity other systems depend on) that `apply` cannot
#   bring back. A replacement often hides in an innocent-looking diff: renaming a bucket or a
#   DB identifier, changing an engine or an availability zone. This policy reads the planned
#   actions of `resource_changes`, so it sees deletions and replacements (with Terraform's
#   `action_reason` and the attributes that force the replacement). Checkov cannot: it scans
#   only `planned_values`, where a deleted resource simply is not there any more.
#   To guard other types, add a policy of your own with the same shape (a `deny` over
#   `input.resource_changes` of those types whose actions include "delete").
# custom:
#   id: aws-stateful-destroy
#   level: error
#   resource_types: [aws_db_instance, aws_rds_cluster, aws_rds_global_cluster, aws_db_snapshot, aws_db_cluster_snapshot, aws_dynamodb_table, aws_dynamodb_global_table, aws_docdb_cluster, aws_docdb_elastic_cluster, aws_neptune_cluster, aws_redshift_cluster, aws_redshiftserverless_namespace, aws_elasticache_replication_group, aws_elasticache_cluster, aws_memorydb_cluster, aws_opensearch_domain, aws_elasticsearch_domain, aws_keyspaces_table, aws_timestreamwrite_database, aws_timestreamwrite_table, aws_qldb_ledger, aws_msk_cluster, aws_kinesis_stream, aws_s3_bucket, aws_glacier_vault, aws_ebs_volume, aws_ebs_snapshot, aws_efs_file_system, aws_fsx_lustre_file_system, aws_fsx_windows_file_system, aws_fsx_ontap_file_system, aws_fsx_openzfs_file_system, aws_vpc, aws_subnet, aws_eip, aws_kms_key, aws_route53_zone, aws_secretsmanager_secret, aws_backup_vault, aws_ecr_repository, aws_cloudwatch_log_group, aws_cognito_user_pool, aws_acmpca_certificate_authority]
#   remediation: If the deletion or replacement is not intended, change the configuration so the plan updates the resource in place (revert the argument that forces replacement, add a `moved` block for a renamed resource or module, or a `removed` block with `lifecycle { destroy = false }` to stop managing it without deleting it). If it is intended, take a backup or snapshot first and have a policy owner approve it with `planguard approve_policies`. Add `lifecycle { prevent_destroy = true }` to resources that must never be destroyed.
package planguard.safety.stateful_destroy

import data.planguard.lib
import rego.v1

# Types whose objects hold data, or an identity other systems depend on, that a new object
# does not restore.
builtin_stateful_types := {
	# Databases and data stores
	"aws_db_instance",
	"aws_rds_cluster",
	"aws_rds_global_cluster",
	"aws_db_snapshot",
	"aws_db_cluster_snapshot",
	"aws_dynamodb_table",
	"aws_dynamodb_global_table",
	"aws_docdb_cluster",
	"aws_docdb_elastic_cluster",
	"aws_neptune_cluster",
	"aws_redshift_cluster",
	"aws_redshiftserverless_namespace",
	"aws_elasticache_replication_group",
	"aws_elasticache_cluster",
	"aws_memorydb_cluster",
	"aws_opensearch_domain",
	"aws_elasticsearch_domain",
	"aws_keyspaces_table",
	"aws_timestreamwrite_database",
	"aws_timestreamwrite_table",
	"aws_qldb_ledger",
	"aws_msk_cluster",
	"aws_kinesis_stream",
	# Object, block and file storage
	"aws_s3_bucket",
	"aws_glacier_vault",
	"aws_ebs_volume",
	"aws_ebs_snapshot",
	"aws_efs_file_system",
	"aws_fsx_lustre_file_system",
	"aws_fsx_windows_file_system",
	"aws_fsx_ontap_file_system",
	"aws_fsx_openzfs_file_system",
	# Networks and addresses other systems know
	"aws_vpc",
	"aws_subnet",
	"aws_eip",
	"aws_route53_zone",
	# Keys, secrets, identities, backups, images, logs
	"aws_kms_key",
	"aws_secretsmanager_secret",
	"aws_acmpca_certificate_authority",
	"aws_cognito_user_pool",
	"aws_backup_vault",
	"aws_ecr_repository",
	"aws_cloudwatch_log_group",
}

stateful_types := builtin_stateful_types

approval := "destroying a stateful resource cannot be undone by another apply, so it needs explicit approval: a policy owner can approve it with `planguard approve_policies`"

deny contains lib.result(rc, sprintf("%s: %s%s; %s", [rc.address, what(rc), why(rc), approval])) if {
	some rc in input.resource_changes
	"delete" in rc.change.actions # lib.destroys(rc), first: most changes fail it
	rc.mode == "managed"
	rc.type in stateful_types
}

what(rc) := sprintf("the plan replaces this %s (%s)", [rc.type, order(rc)]) if {
	lib.is_replace(rc)
} else := sprintf("the plan deletes a deposed object (%s) of this %s", [rc.deposed, rc.type]) if {
	rc.deposed
} else := sprintf("the plan deletes this %s", [rc.type])

order(rc) := "create_before_destroy: the new object is created first" if {
	rc.change.actions == ["create", "delete"]
} else := "destroy, then create"

# Why Terraform plans the destruction, from action_reason and replace_paths.
why(rc) := sprintf(" because %s", [concat(", ", r)]) if {
	r := reasons(rc)
	count(r) > 0
} else := " (no action_reason in the plan)"

reasons(rc) := array.concat(
	[sprintf("%s: %s", [rc.action_reason, object.get(reason_text, rc.action_reason, "see Terraform's documentation")]) | rc.action_reason],
	[sprintf("forced by a change to %s", [concat(", ", paths)]) |
		paths := [sprintf("`%s`", [concat(".", [sprintf("%v", [k]) | some k in path])]) | some path in rc.change.replace_paths]
		count(paths) > 0
	],
)

reason_text := {
	"replace_because_tainted": "the object is tainted (a previous apply failed part-way or it was marked with `taint`)",
	"replace_because_cannot_update": "an argument that cannot be updated in place changed",
	"replace_by_request": "replacement was requested with `-replace`",
	"replace_by_triggers": "a `replace_triggered_by` reference changed",
	"delete_because_no_resource_config": "its block was removed from the configuration",
	"delete_because_wrong_repetition": "`count` or `for_each` was added to or removed from its block",
	"delete_because_count_index": "its index is beyond the new `count`",
	"delete_because_each_key": "its key is no longer in `for_each`",
	"delete_because_no_module": "its module call was removed",
	"delete_because_no_move_target": "the target of its `moved` block does not exist",
}

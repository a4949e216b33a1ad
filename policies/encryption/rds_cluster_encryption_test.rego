package planguard.encryption.rds_cluster_encryption_test

import data.planguard.encryption.rds_cluster_encryption
import rego.v1

plan(after, unknown, expressions) := {
	"resource_changes": [{
		"address": "aws_rds_cluster.aurora", "type": "aws_rds_cluster", "name": "aurora", "mode": "managed",
		"change": {"actions": ["create"], "after": object.union({"engine": "aurora-postgresql", "engine_mode": "provisioned"}, after), "after_unknown": unknown},
	}],
	"configuration": {"root_module": {"resources": [{
		"address": "aws_rds_cluster.aurora", "mode": "managed", "type": "aws_rds_cluster", "name": "aurora",
		"provider_config_key": "aws", "expressions": expressions,
	}]}},
}

test_encrypted_cluster_passes if {
	p := plan({"storage_encrypted": true}, {"kms_key_id": true}, {"storage_encrypted": {"constant_value": true}})
	count(rds_cluster_encryption.deny) == 0 with input as p
	count(rds_cluster_encryption.warn) == 0 with input as p
}

test_unencrypted_cluster_is_denied if {
	some r in rds_cluster_encryption.deny with input as plan({"storage_encrypted": false}, {}, {"storage_encrypted": {"constant_value": false}})
	r.address == "aws_rds_cluster.aurora"
	contains(r.msg, "storage_encrypted = false)")
}

test_unset_storage_encrypted_is_a_violation_not_an_unknown if {
	p := plan({}, {"storage_encrypted": true}, {"engine": {"constant_value": "aurora-postgresql"}})
	some r in rds_cluster_encryption.deny with input as p
	contains(r.msg, "not set, so the default applies")
	count(rds_cluster_encryption.warn) == 0 with input as p
}

test_serverless_v1_is_always_encrypted if {
	p := plan({"engine_mode": "serverless"}, {"storage_encrypted": true}, {"engine_mode": {"constant_value": "serverless"}})
	count(rds_cluster_encryption.deny) == 0 with input as p
}

test_unknown_storage_encrypted_warns if {
	p := plan({}, {"storage_encrypted": true}, {"storage_encrypted": {"references": ["var.encrypted"]}})
	count(rds_cluster_encryption.deny) == 0 with input as p
	count(rds_cluster_encryption.warn) == 1 with input as p
}

test_global_secondary_takes_the_global_encryption if {
	p := plan({"global_cluster_identifier": "orders"}, {"storage_encrypted": true}, {"global_cluster_identifier": {"references": ["aws_rds_global_cluster.orders.id", "aws_rds_global_cluster.orders"]}})
	count(rds_cluster_encryption.deny) == 0 with input as p
}

test_restore_from_snapshot_warns if {
	p := plan({"snapshot_identifier": "arn:aws:rds:eu-west-1:111122223333:cluster-snapshot:orders"}, {"storage_encrypted": true}, {"snapshot_identifier": {"constant_value": "arn:aws:rds:eu-west-1:111122223333:cluster-snapshot:orders"}})
	count(rds_cluster_encryption.deny) == 0 with input as p
	count(rds_cluster_encryption.warn) == 1 with input as p
}

test_point_in_time_restore_warns if {
	p := plan({"restore_to_point_in_time": [{"source_cluster_identifier": "orders", "use_latest_restorable_time": true}]}, {"storage_encrypted": true}, {"restore_to_point_in_time": [{"source_cluster_identifier": {"constant_value": "orders"}, "use_latest_restorable_time": {"constant_value": true}}]})
	count(rds_cluster_encryption.deny) == 0 with input as p
	some r in rds_cluster_encryption.warn with input as p
	contains(r.msg, "restore_to_point_in_time")
}

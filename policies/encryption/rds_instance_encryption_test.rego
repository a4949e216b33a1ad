package planguard.encryption.rds_instance_encryption_test

import data.planguard.encryption.rds_instance_encryption
import rego.v1

plan(after, unknown, expressions) := {
	"resource_changes": [{
		"address": "aws_db_instance.app", "type": "aws_db_instance", "name": "app", "mode": "managed",
		"change": {"actions": ["create"], "after": object.union({"engine": "postgres", "instance_class": "db.t4g.medium"}, after), "after_unknown": unknown},
	}],
	"configuration": {"root_module": {"resources": [{
		"address": "aws_db_instance.app", "mode": "managed", "type": "aws_db_instance", "name": "app",
		"provider_config_key": "aws", "expressions": expressions,
	}]}},
}

test_encrypted_instance_passes if {
	p := plan({"storage_encrypted": true}, {"kms_key_id": true}, {"storage_encrypted": {"constant_value": true}})
	count(rds_instance_encryption.deny) == 0 with input as p
	count(rds_instance_encryption.warn) == 0 with input as p
}

test_explicitly_unencrypted_instance_is_denied if {
	some r in rds_instance_encryption.deny with input as plan({"storage_encrypted": false}, {}, {"storage_encrypted": {"constant_value": false}})
	r.address == "aws_db_instance.app"
	r.msg == "aws_db_instance.app: RDS instance storage is not encrypted (storage_encrypted = false)"
}

test_unset_storage_encrypted_is_denied_as_default if {
	some r in rds_instance_encryption.deny with input as plan({"storage_encrypted": null}, {}, {"engine": {"constant_value": "postgres"}})
	contains(r.msg, "(storage_encrypted = false (not set, so the default applies))")
}

test_unknown_storage_encrypted_warns if {
	p := plan({}, {"storage_encrypted": true}, {"storage_encrypted": {"references": ["var.encrypted"]}})
	count(rds_instance_encryption.deny) == 0 with input as p
	count(rds_instance_encryption.warn) == 1 with input as p
}

test_read_replica_takes_the_source_encryption if {
	p := plan({"replicate_source_db": "app-primary", "storage_encrypted": null}, {}, {"replicate_source_db": {"constant_value": "app-primary"}})
	count(rds_instance_encryption.deny) == 0 with input as p
	count(rds_instance_encryption.warn) == 0 with input as p
}

test_restore_from_snapshot_warns if {
	p := plan({"snapshot_identifier": "app-2024-06-01"}, {}, {"snapshot_identifier": {"constant_value": "app-2024-06-01"}})
	count(rds_instance_encryption.deny) == 0 with input as p
	some r in rds_instance_encryption.warn with input as p
	contains(r.msg, "snapshot it is restored from")
}

test_deleted_instance_is_ignored if {
	p := {"resource_changes": [{
		"address": "aws_db_instance.old", "type": "aws_db_instance", "name": "old", "mode": "managed",
		"change": {"actions": ["delete"], "after": null, "after_unknown": {}},
	}]}
	count(rds_instance_encryption.deny) == 0 with input as p
}

test_unknown_snapshot_identifier_warns_and_says_so if {
	p := plan({"storage_encrypted": false}, {"snapshot_identifier": true}, {"storage_encrypted": {"references": ["var.storage_encrypted"]}, "snapshot_identifier": {"references": ["var.snapshot_identifier"]}})
	count(rds_instance_encryption.deny) == 0 with input as p
	some r in rds_instance_encryption.warn with input as p
	contains(r.msg, "snapshot_identifier is unknown until apply")
}

package planguard.encryption.backup_vault_cmk_test

import data.planguard.encryption.backup_vault_cmk
import rego.v1

plan(actions, after, unknown, expressions) := {
	"resource_changes": [{
		"address": "aws_backup_vault.main", "type": "aws_backup_vault", "name": "main", "mode": "managed",
		"change": {"actions": actions, "after": object.union({"name": "main"}, after), "after_unknown": unknown},
	}],
	"configuration": {"root_module": {"resources": [{
		"address": "aws_backup_vault.main", "mode": "managed", "type": "aws_backup_vault", "name": "main",
		"provider_config_key": "aws", "expressions": object.union({"name": {"constant_value": "main"}}, expressions),
	}]}},
}

test_customer_managed_key_passes if {
	count(backup_vault_cmk.deny) == 0 with input as plan(["create"], {}, {"kms_key_arn": true}, {"kms_key_arn": {"references": ["aws_kms_key.backup.arn", "aws_kms_key.backup"]}})
}

test_vault_without_key_is_reported if {
	some r in backup_vault_cmk.deny with input as plan(["create"], {}, {"kms_key_arn": true}, {})
	r.address == "aws_backup_vault.main"
	contains(r.msg, "aws/backup")
}

test_aws_managed_key_on_update_is_reported_from_the_configuration if {
	arn := "arn:aws:kms:eu-west-1:111122223333:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
	count(backup_vault_cmk.deny) == 1 with input as plan(["update"], {"kms_key_arn": arn}, {}, {})
}

test_without_configuration_a_known_key_passes if {
	p := {"resource_changes": [{
		"address": "aws_backup_vault.main", "type": "aws_backup_vault", "name": "main", "mode": "managed",
		"change": {"actions": ["create"], "after": {"name": "main", "kms_key_arn": "arn:aws:kms:eu-west-1:111122223333:key/k"}, "after_unknown": {}},
	}]}
	count(backup_vault_cmk.deny) == 0 with input as p
}

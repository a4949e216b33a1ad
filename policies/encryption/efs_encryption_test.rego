package planguard.encryption.efs_encryption_test

import data.planguard.encryption.efs_encryption
import rego.v1

plan(after, unknown, expressions) := {
	"resource_changes": [{
		"address": "aws_efs_file_system.shared", "type": "aws_efs_file_system", "name": "shared", "mode": "managed",
		"change": {"actions": ["create"], "after": after, "after_unknown": unknown},
	}],
	"configuration": {"root_module": {"resources": [{
		"address": "aws_efs_file_system.shared", "mode": "managed", "type": "aws_efs_file_system", "name": "shared",
		"provider_config_key": "aws", "expressions": expressions,
	}]}},
}

test_encrypted_file_system_passes if {
	p := plan({"encrypted": true}, {"kms_key_id": true}, {"encrypted": {"constant_value": true}})
	count(efs_encryption.deny) == 0 with input as p
	count(efs_encryption.warn) == 0 with input as p
}

test_unencrypted_file_system_is_denied if {
	some r in efs_encryption.deny with input as plan({"encrypted": false}, {}, {"encrypted": {"constant_value": false}})
	r.address == "aws_efs_file_system.shared"
}

test_unset_encrypted_is_denied if {
	p := plan({"performance_mode": "generalPurpose"}, {"encrypted": true, "kms_key_id": true}, {"performance_mode": {"constant_value": "generalPurpose"}})
	some r in efs_encryption.deny with input as p
	contains(r.msg, "not set, so the default applies")
	count(efs_encryption.warn) == 0 with input as p
}

test_unknown_encrypted_warns if {
	p := plan({}, {"encrypted": true}, {"encrypted": {"references": ["var.encrypted"]}})
	count(efs_encryption.deny) == 0 with input as p
	count(efs_encryption.warn) == 1 with input as p
}

test_unknown_without_configuration_warns if {
	p := {"resource_changes": [{
		"address": "aws_efs_file_system.shared", "type": "aws_efs_file_system", "name": "shared", "mode": "managed",
		"change": {"actions": ["create"], "after": {}, "after_unknown": {"encrypted": true}},
	}]}
	count(efs_encryption.deny) == 0 with input as p
	count(efs_encryption.warn) == 1 with input as p
}

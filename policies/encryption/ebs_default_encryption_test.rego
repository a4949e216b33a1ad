package planguard.encryption.ebs_default_encryption_test

import data.planguard.encryption.ebs_default_encryption
import rego.v1

plan(after, unknown, actions, expressions) := {
	"resource_changes": [{
		"address": "aws_ebs_encryption_by_default.this", "type": "aws_ebs_encryption_by_default", "name": "this", "mode": "managed",
		"change": {"actions": actions, "after": after, "after_unknown": unknown},
	}],
	"configuration": {"root_module": {"resources": [{
		"address": "aws_ebs_encryption_by_default.this", "mode": "managed", "type": "aws_ebs_encryption_by_default",
		"name": "this", "provider_config_key": "aws", "expressions": expressions,
	}]}},
}

test_disabling_default_encryption_is_denied if {
	some r in ebs_default_encryption.deny with input as plan({"enabled": false}, {}, ["create"], {"enabled": {"constant_value": false}})
	r.address == "aws_ebs_encryption_by_default.this"
	contains(r.msg, "enabled = false")
}

test_turning_it_off_on_update_is_denied if {
	count(ebs_default_encryption.deny) == 1 with input as plan({"enabled": false}, {}, ["update"], {"enabled": {"constant_value": false}})
}

test_enabled_passes if {
	count(ebs_default_encryption.deny) == 0 with input as plan({"enabled": true}, {}, ["create"], {"enabled": {"constant_value": true}})
}

test_unset_defaults_to_enabled if {
	count(ebs_default_encryption.deny) == 0 with input as plan({"enabled": true}, {}, ["create"], {})
	count(ebs_default_encryption.warn) == 0 with input as plan({"enabled": true}, {}, ["create"], {})
}

test_unknown_warns if {
	p := plan({}, {"enabled": true}, ["create"], {"enabled": {"references": ["aws_ssm_parameter.flag.value"]}})
	count(ebs_default_encryption.deny) == 0 with input as p
	count(ebs_default_encryption.warn) == 1 with input as p
}

test_deleting_is_not_an_encryption_finding if {
	count(ebs_default_encryption.deny) == 0 with input as plan(null, {}, ["delete"], {"enabled": {"constant_value": false}})
}

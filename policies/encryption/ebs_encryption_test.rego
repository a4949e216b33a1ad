package planguard.encryption.ebs_encryption_test

import data.planguard.encryption.ebs_encryption
import rego.v1

volume(after, unknown, actions) := {"resource_changes": [{
	"address": "aws_ebs_volume.data",
	"type": "aws_ebs_volume",
	"name": "data",
	"mode": "managed",
	"change": {"actions": actions, "after": after, "after_unknown": unknown},
}]}

# A plan with configuration: the volume's block writes `expressions`, and `extra` changes (the
# account's EBS default encryption) come with their own blocks.
configured(expressions, extra) := {
	"resource_changes": array.concat(
		[{
			"address": "aws_ebs_volume.data", "type": "aws_ebs_volume", "name": "data", "mode": "managed",
			"change": {"actions": ["create"], "after": {"size": 100}, "after_unknown": {"encrypted": true, "id": true}},
		}],
		[pair[0] | some pair in extra],
	),
	"configuration": {
		"provider_config": {"aws": {"name": "aws", "full_name": "registry.terraform.io/hashicorp/aws"}},
		"root_module": {"resources": array.concat(
			[{"address": "aws_ebs_volume.data", "mode": "managed", "type": "aws_ebs_volume", "name": "data", "provider_config_key": "aws", "expressions": expressions}],
			[pair[1] | some pair in extra],
		)},
	},
}

default_encryption(enabled) := [
	{
		"address": "aws_ebs_encryption_by_default.this", "type": "aws_ebs_encryption_by_default", "name": "this", "mode": "managed",
		"change": {"actions": ["no-op"], "after": {"enabled": enabled}, "after_unknown": {}},
	},
	{"address": "aws_ebs_encryption_by_default.this", "mode": "managed", "type": "aws_ebs_encryption_by_default", "name": "this", "provider_config_key": "aws", "expressions": {"enabled": {"constant_value": enabled}}},
]

test_unencrypted_volume_is_denied if {
	some r in ebs_encryption.deny with input as volume({"encrypted": false}, {}, ["create"])
	r.address == "aws_ebs_volume.data"
	contains(r.msg, "not encrypted")
}

test_missing_encrypted_attribute_is_denied if {
	count(ebs_encryption.deny) == 1 with input as volume({}, {}, ["create"])
}

test_encrypted_volume_passes if {
	count(ebs_encryption.deny) == 0 with input as volume({"encrypted": true}, {}, ["create"])
	count(ebs_encryption.warn) == 0 with input as volume({"encrypted": true}, {}, ["create"])
}

test_unknown_encryption_warns_but_does_not_deny if {
	count(ebs_encryption.deny) == 0 with input as volume({}, {"encrypted": true}, ["create"])
	count(ebs_encryption.warn) == 1 with input as volume({}, {"encrypted": true}, ["create"])
}

test_deleting_an_unencrypted_volume_is_not_an_encryption_finding if {
	count(ebs_encryption.deny) == 0 with input as volume(null, {}, ["delete"])
}

test_unset_encrypted_relies_on_the_account_default if {
	plan := configured({"size": {"constant_value": 100}}, [])
	some r in ebs_encryption.deny with input as plan
	contains(r.msg, "does not set encrypted = true")
	contains(r.msg, "account's EBS default encryption")
	count(ebs_encryption.warn) == 0 with input as plan
}

test_unset_encrypted_passes_with_default_encryption_in_the_plan if {
	plan := configured({"size": {"constant_value": 100}}, [default_encryption(true)])
	count(ebs_encryption.deny) == 0 with input as plan
	count(ebs_encryption.warn) == 0 with input as plan
}

test_unset_encrypted_is_denied_when_the_plan_turns_the_default_off if {
	some r in ebs_encryption.deny with input as configured({}, [default_encryption(false)])
	contains(r.msg, "turns the account's EBS default encryption off (aws_ebs_encryption_by_default.this)")
}

test_default_encryption_elsewhere_can_be_declared_in_config if {
	count(ebs_encryption.deny) == 0 with input as configured({}, []) with data.planguard.config as {"ebs_default_encryption": true}
}

test_default_encryption_in_another_region_does_not_count if {
	other := [
		object.union(default_encryption(true)[0], {"address": "aws_ebs_encryption_by_default.us", "name": "us"}),
		object.union(default_encryption(true)[1], {"address": "aws_ebs_encryption_by_default.us", "name": "us", "provider_config_key": "aws.us"}),
	]
	plan := object.union(configured({}, [other]), {"configuration": {"provider_config": {
		"aws": {"name": "aws", "expressions": {"region": {"constant_value": "eu-west-1"}}},
		"aws.us": {"name": "aws", "alias": "us", "expressions": {"region": {"constant_value": "us-east-1"}}},
	}}})
	count(ebs_encryption.deny) == 1 with input as plan
}

test_encrypted_from_a_reference_warns if {
	plan := configured({"encrypted": {"references": ["local.encrypt"]}}, [])
	count(ebs_encryption.deny) == 0 with input as plan
	count(ebs_encryption.warn) == 1 with input as plan
}

test_the_plan_turning_the_default_off_wins_over_the_setting if {
	count(ebs_encryption.deny) == 1 with input as configured({}, [default_encryption(false)]) with data.planguard.config as {"ebs_default_encryption": true}
}

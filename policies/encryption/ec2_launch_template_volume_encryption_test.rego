package planguard.encryption.ec2_launch_template_volume_encryption_test

import data.planguard.encryption.ec2_launch_template_volume_encryption
import rego.v1

plan(mappings, unknown, config_mappings) := {
	"resource_changes": [{
		"address": "aws_launch_template.app", "type": "aws_launch_template", "name": "app", "mode": "managed",
		"change": {"actions": ["create"], "after": {"name_prefix": "app-", "block_device_mappings": mappings}, "after_unknown": unknown},
	}],
	"configuration": {"root_module": {"resources": [{
		"address": "aws_launch_template.app", "mode": "managed", "type": "aws_launch_template", "name": "app",
		"provider_config_key": "aws", "expressions": {"block_device_mappings": config_mappings},
	}]}},
}

mapping(ebs) := {"device_name": "/dev/xvda", "ebs": [ebs], "no_device": "", "virtual_name": ""}

test_encrypted_string_true_passes if {
	p := plan([mapping({"encrypted": "true", "volume_size": 20})], {}, [{"ebs": [{"encrypted": {"constant_value": "true"}}]}])
	count(ec2_launch_template_volume_encryption.deny) == 0 with input as p
	count(ec2_launch_template_volume_encryption.warn) == 0 with input as p
}

test_encrypted_string_false_is_denied if {
	p := plan([mapping({"encrypted": "false"})], {}, [{"ebs": [{"encrypted": {"constant_value": "false"}}]}])
	some r in ec2_launch_template_volume_encryption.deny with input as p
	r.address == "aws_launch_template.app"
	contains(r.msg, "EBS volume /dev/xvda is not encrypted")
}

test_unset_encrypted_relies_on_the_account_default if {
	p := plan([mapping({"encrypted": "", "volume_size": 20})], {}, [{"ebs": [{"volume_size": {"constant_value": 20}}]}])
	some r in ec2_launch_template_volume_encryption.deny with input as p
	contains(r.msg, "does not set encrypted = \"true\"")
}

test_unset_encrypted_passes_with_default_encryption_declared if {
	p := plan([mapping({"encrypted": "", "volume_size": 20})], {}, [{"ebs": [{"volume_size": {"constant_value": 20}}]}])
	count(ec2_launch_template_volume_encryption.deny) == 0 with input as p with data.planguard.config as {"ebs_default_encryption": true}
}

test_unknown_encrypted_warns if {
	p := plan([mapping({})], {"block_device_mappings": [{"ebs": [{"encrypted": true}]}]}, [{"ebs": [{"encrypted": {"references": ["local.encrypt"]}}]}])
	count(ec2_launch_template_volume_encryption.deny) == 0 with input as p
	count(ec2_launch_template_volume_encryption.warn) == 1 with input as p
}

test_mappings_without_ebs_are_ignored if {
	p := plan([{"device_name": "/dev/sdb", "ebs": [], "virtual_name": "ephemeral0"}], {}, [{"virtual_name": {"constant_value": "ephemeral0"}}])
	count(ec2_launch_template_volume_encryption.deny) == 0 with input as p
}

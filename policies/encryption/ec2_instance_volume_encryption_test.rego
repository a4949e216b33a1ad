package planguard.encryption.ec2_instance_volume_encryption_test

import data.planguard.encryption.ec2_instance_volume_encryption
import rego.v1

plan(after, unknown, expressions) := {
	"resource_changes": [{
		"address": "aws_instance.web", "type": "aws_instance", "name": "web", "mode": "managed",
		"change": {"actions": ["create"], "after": object.union({"ami": "ami-0abcdef1234567890", "instance_type": "t3.micro"}, after), "after_unknown": unknown},
	}],
	"configuration": {"root_module": {"resources": [{
		"address": "aws_instance.web", "mode": "managed", "type": "aws_instance", "name": "web",
		"provider_config_key": "aws", "expressions": expressions,
	}]}},
}

with_default(p) := object.union(p, {"resource_changes": array.concat(p.resource_changes, [{
	"address": "aws_ebs_encryption_by_default.this", "type": "aws_ebs_encryption_by_default", "name": "this", "mode": "managed",
	"change": {"actions": ["create"], "after": {"enabled": true}, "after_unknown": {"id": true}},
}])})

no_root := plan({}, {"root_block_device": true, "ebs_block_device": true, "id": true}, {"ami": {"constant_value": "ami-0abcdef1234567890"}})

test_encrypted_root_and_ebs_pass if {
	p := plan(
		{"root_block_device": [{"encrypted": true, "volume_size": 30}], "ebs_block_device": [{"device_name": "/dev/sdf", "encrypted": true}]},
		{"root_block_device": [{"kms_key_id": true}], "ebs_block_device": [{"kms_key_id": true}]},
		{"root_block_device": [{"encrypted": {"constant_value": true}}], "ebs_block_device": [{"device_name": {"constant_value": "/dev/sdf"}, "encrypted": {"constant_value": true}}]},
	)
	count(ec2_instance_volume_encryption.deny) == 0 with input as p
	count(ec2_instance_volume_encryption.warn) == 0 with input as p
}

test_unencrypted_root_is_denied if {
	p := plan({"root_block_device": [{"encrypted": false}]}, {}, {"root_block_device": [{"encrypted": {"constant_value": false}}]})
	some r in ec2_instance_volume_encryption.deny with input as p
	r.address == "aws_instance.web"
	contains(r.msg, "root_block_device.encrypted = false")
}

test_missing_root_block_relies_on_the_account_default if {
	some r in ec2_instance_volume_encryption.deny with input as no_root
	contains(r.msg, "does not set root_block_device.encrypted = true")
	count(ec2_instance_volume_encryption.warn) == 0 with input as no_root
}

test_missing_root_block_passes_with_default_encryption if {
	count(ec2_instance_volume_encryption.deny) == 0 with input as with_default(no_root)
}

test_root_block_without_encrypted_is_denied if {
	p := plan({"root_block_device": [{"volume_size": 50}]}, {"root_block_device": [{"encrypted": true}]}, {"root_block_device": [{"volume_size": {"constant_value": 50}}]})
	count(ec2_instance_volume_encryption.deny) == 1 with input as p
}

test_unknown_root_encryption_warns if {
	p := plan({"root_block_device": [{}]}, {"root_block_device": [{"encrypted": true}]}, {"root_block_device": [{"encrypted": {"references": ["var.encrypt"]}}]})
	count(ec2_instance_volume_encryption.deny) == 0 with input as p
	count(ec2_instance_volume_encryption.warn) == 1 with input as p
}

test_unencrypted_ebs_device_is_denied if {
	p := plan(
		{"root_block_device": [{"encrypted": true}], "ebs_block_device": [{"device_name": "/dev/sdg", "encrypted": false}]},
		{},
		{"root_block_device": [{"encrypted": {"constant_value": true}}], "ebs_block_device": [{"device_name": {"constant_value": "/dev/sdg"}, "encrypted": {"constant_value": false}}]},
	)
	some r in ec2_instance_volume_encryption.deny with input as p
	contains(r.msg, "EBS block device /dev/sdg is not encrypted")
	count(ec2_instance_volume_encryption.deny) == 1 with input as p
}

test_ebs_device_without_encrypted_is_denied_by_device_name if {
	p := plan(
		{"root_block_device": [{"encrypted": true}], "ebs_block_device": [{"device_name": "/dev/sdh", "volume_size": 100}]},
		{"ebs_block_device": [{"encrypted": true}]},
		{"root_block_device": [{"encrypted": {"constant_value": true}}], "ebs_block_device": [{"device_name": {"constant_value": "/dev/sdh"}, "volume_size": {"constant_value": 100}}]},
	)
	some r in ec2_instance_volume_encryption.deny with input as p
	contains(r.msg, "EBS block device /dev/sdh does not set encrypted = true")
	count(ec2_instance_volume_encryption.warn) == 0 with input as p
}

test_ebs_device_unmatched_in_configuration_warns if {
	p := plan(
		{"root_block_device": [{"encrypted": true}], "ebs_block_device": [{"device_name": "/dev/sdh"}]},
		{"ebs_block_device": [{"encrypted": true}]},
		{"root_block_device": [{"encrypted": {"constant_value": true}}], "ebs_block_device": [{"device_name": {"references": ["var.device"]}, "encrypted": {"references": ["var.encrypt"]}}]},
	)
	count(ec2_instance_volume_encryption.deny) == 0 with input as p
	count(ec2_instance_volume_encryption.warn) == 1 with input as p
}

test_deleted_instance_is_ignored if {
	p := {"resource_changes": [{
		"address": "aws_instance.old", "type": "aws_instance", "name": "old", "mode": "managed",
		"change": {"actions": ["delete"], "before": {"root_block_device": [{"encrypted": false}]}, "after": null, "after_unknown": {}},
	}]}
	count(ec2_instance_volume_encryption.deny) == 0 with input as p
}

launch_configuration(root_encrypted) := {"resource_changes": [{
	"address": "aws_launch_configuration.workers", "type": "aws_launch_configuration", "name": "workers", "mode": "managed",
	"change": {"actions": ["create"], "after": {"image_id": "ami-0abcdef1234567890", "root_block_device": [{"encrypted": root_encrypted}]}, "after_unknown": {}},
}]}

test_launch_configurations_are_checked_like_instances if {
	some r in ec2_instance_volume_encryption.deny with input as launch_configuration(false)
	r.address == "aws_launch_configuration.workers"
	count(ec2_instance_volume_encryption.deny) == 0 with input as launch_configuration(true)
}

package planguard.exposure.ec2_public_ip_test

import data.planguard.exposure.ec2_public_ip
import rego.v1

change(kind, after, unknown) := {
	"address": sprintf("%s.main", [kind]),
	"type": kind,
	"name": "main",
	"mode": "managed",
	"change": {"actions": ["create"], "after": after, "after_unknown": unknown},
}

plan(rc, expressions) := {
	"resource_changes": [rc],
	"configuration": {"root_module": {"resources": [{"address": rc.address, "mode": "managed", "type": rc.type, "name": "main", "expressions": expressions}]}},
}

test_instance_with_public_ip_is_denied if {
	some r in ec2_public_ip.deny with input as plan(change("aws_instance", {"associate_public_ip_address": true}, {}), {"associate_public_ip_address": {"constant_value": true}})
	r.address == "aws_instance.main"
}

test_instance_without_public_ip_passes if {
	count(ec2_public_ip.deny) == 0 with input as plan(change("aws_instance", {"associate_public_ip_address": false}, {}), {"associate_public_ip_address": {"constant_value": false}})
}

test_instance_left_to_the_subnet_default_is_silent if {
	c := change("aws_instance", {"ami": "ami-123"}, {"associate_public_ip_address": true, "public_ip": true})
	count(ec2_public_ip.deny) == 0 with input as plan(c, {"ami": {"constant_value": "ami-123"}})
	count(ec2_public_ip.warn) == 0 with input as plan(c, {"ami": {"constant_value": "ami-123"}})
}

test_instance_with_unknown_setting_warns if {
	c := change("aws_instance", {}, {"associate_public_ip_address": true})
	count(ec2_public_ip.warn) == 1 with input as plan(c, {"associate_public_ip_address": {"references": ["var.public"]}})
}

test_launch_configuration_with_public_ip_is_denied if {
	count(ec2_public_ip.deny) == 1 with input as {"resource_changes": [change("aws_launch_configuration", {"associate_public_ip_address": true}, {})]}
}

test_launch_template_with_public_ip_is_denied if {
	c := change("aws_launch_template", {"network_interfaces": [{"associate_public_ip_address": "true", "device_index": 0}]}, {"network_interfaces": [{}]})
	some r in ec2_public_ip.deny with input as {"resource_changes": [c]}
	r.address == "aws_launch_template.main"
	contains(r.msg, "network interface 0")
}

test_launch_template_without_public_ip_passes if {
	c := change("aws_launch_template", {"network_interfaces": [{"associate_public_ip_address": "false"}]}, {})
	count(ec2_public_ip.deny) == 0 with input as {"resource_changes": [c]}
	c2 := change("aws_launch_template", {"network_interfaces": []}, {})
	count(ec2_public_ip.deny) == 0 with input as {"resource_changes": [c2]}
}

test_launch_template_unknown_setting_warns if {
	c := change("aws_launch_template", {"network_interfaces": [{"device_index": 0}]}, {"network_interfaces": [{"associate_public_ip_address": true}]})
	count(ec2_public_ip.deny) == 0 with input as {"resource_changes": [c]}
	count(ec2_public_ip.warn) == 1 with input as {"resource_changes": [c]}
}

package planguard.exposure.vpc_map_public_ip_test

import data.planguard.exposure.vpc_map_public_ip
import rego.v1

change(after, unknown) := {
	"address": "aws_subnet.main",
	"type": "aws_subnet",
	"name": "main",
	"mode": "managed",
	"change": {"actions": ["create"], "after": after, "after_unknown": unknown},
}

test_map_public_ip_warns if {
	some r in vpc_map_public_ip.warn with input as {"resource_changes": [change({"map_public_ip_on_launch": true}, {})]}
	r.address == "aws_subnet.main"
	contains(r.msg, "map_public_ip_on_launch = true")
}

test_private_subnet_passes if {
	count(vpc_map_public_ip.warn) == 0 with input as {"resource_changes": [change({"map_public_ip_on_launch": false}, {})]}
}

test_unknown_setting_warns if {
	some r in vpc_map_public_ip.warn with input as {"resource_changes": [change({}, {"map_public_ip_on_launch": true})]}
	contains(r.msg, "unknown until apply")
}

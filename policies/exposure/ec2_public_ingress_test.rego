package planguard.exposure.ec2_public_ingress_test

import data.planguard.exposure.ec2_public_ingress as sg
import rego.v1

rc(kind, after, unknown) := {
	"address": sprintf("%s.this", [kind]),
	"type": kind,
	"name": "this",
	"mode": "managed",
	"change": {"actions": ["create"], "after": after, "after_unknown": unknown},
}

block(kind, expressions) := {"address": sprintf("%s.this", [kind]), "mode": "managed", "type": kind, "name": "this", "expressions": expressions}

plan(rcs, blocks) := {"resource_changes": rcs, "configuration": {"root_module": {"resources": blocks}}}

ingress(protocol, from, to, cidrs, ipv6) := {
	"protocol": protocol, "from_port": from, "to_port": to,
	"cidr_blocks": cidrs, "ipv6_cidr_blocks": ipv6,
	"description": "", "prefix_list_ids": [], "security_groups": [], "self": false,
}

group(rules) := rc("aws_security_group", {"name": "web", "ingress": rules}, {"id": true})

rule(protocol, from, to, cidrs) := rc("aws_security_group_rule", {"type": "ingress", "protocol": protocol, "from_port": from, "to_port": to, "cidr_blocks": cidrs, "ipv6_cidr_blocks": null}, {"id": true})

vpc_rule(protocol, from, to, cidr4, cidr6) := rc("aws_vpc_security_group_ingress_rule", {"ip_protocol": protocol, "from_port": from, "to_port": to, "cidr_ipv4": cidr4, "cidr_ipv6": cidr6}, {"id": true})

# --- aws_security_group ---

test_inline_ssh_from_anywhere_is_denied if {
	some r in sg.deny with input as plan([group([ingress("tcp", 22, 22, ["0.0.0.0/0"], [])])], [])
	r.address == "aws_security_group.this"
	contains(r.msg, "tcp port 22")
	contains(r.msg, "0.0.0.0/0")
}

test_inline_https_from_anywhere_passes if {
	count(sg.deny) == 0 with input as plan([group([ingress("tcp", 443, 443, ["0.0.0.0/0"], ["::/0"])])], [])
}

test_inline_private_cidr_passes if {
	count(sg.deny) == 0 with input as plan([group([ingress("tcp", 22, 22, ["10.0.0.0/8"], [])])], [])
}

test_inline_ipv6_all_traffic_is_denied if {
	some r in sg.deny with input as plan([group([ingress("-1", 0, 0, [], ["::/0"])])], [])
	contains(r.msg, "all protocols and ports")
	contains(r.msg, "::/0")
}

test_inline_icmp_passes if {
	count(sg.deny) == 0 with input as plan([group([ingress("icmp", 8, 0, ["0.0.0.0/0"], [])])], [])
}

test_inline_unknown_cidr_warns if {
	change := rc("aws_security_group", {"ingress": [ingress("tcp", 22, 22, null, [])]}, {"ingress": [{"cidr_blocks": true}]})
	count(sg.deny) == 0 with input as plan([change], [])
	count(sg.warn) == 1 with input as plan([change], [])
}

test_inline_unknown_element_of_cidrs_warns if {
	change := rc("aws_security_group", {"ingress": [ingress("tcp", 22, 22, [null], [])]}, {"ingress": [{"cidr_blocks": [true]}]})
	count(sg.warn) == 1 with input as plan([change], [])
}

test_ingress_computed_because_unset_is_silent if {
	change := rc("aws_security_group", {"name": "web"}, {"ingress": true, "egress": true, "id": true})
	count(sg.warn) == 0 with input as plan([change], [block("aws_security_group", {"name": {"constant_value": "web"}})])
	count(sg.warn) == 1 with input as plan([change], [block("aws_security_group", {"ingress": [{"cidr_blocks": {"references": ["var.cidrs"]}}]})])
}

# --- aws_security_group_rule ---

test_rule_range_reports_the_disallowed_ports if {
	some r in sg.deny with input as plan([rule("tcp", 0, 1024, ["0.0.0.0/0"])], [])
	contains(r.msg, "tcp ports 0-79, 81-442, 444-1024")
}

test_rule_all_protocols_is_denied if {
	count(sg.deny) == 1 with input as plan([rule("-1", 0, 0, ["0.0.0.0/0"])], [])
	count(sg.deny) == 1 with input as plan([rule("all", 0, 65535, ["0.0.0.0/0"])], [])
}

test_rule_on_allowed_ports_passes if {
	count(sg.deny) == 0 with input as plan([rule("tcp", 80, 80, ["0.0.0.0/0"])], [])
	count(sg.deny) == 0 with input as plan([rule("6", 443, 443, ["0.0.0.0/0"])], [])
}

test_egress_rule_is_not_ingress if {
	change := rc("aws_security_group_rule", {"type": "egress", "protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"]}, {})
	count(sg.deny) == 0 with input as plan([change], [])
}

test_public_ingress_ports_setting if {
	count(sg.deny) == 0 with input as plan([rule("tcp", 22, 22, ["0.0.0.0/0"])], []) with data.planguard.config as {"public_ingress_ports": [22]}
	some r in sg.deny with input as plan([rule("tcp", 443, 443, ["0.0.0.0/0"])], []) with data.planguard.config as {"public_ingress_ports": [22]}
	contains(r.msg, "tcp port 443 (only 22 may be public)")
}

test_no_public_ports_setting if {
	some r in sg.deny with input as plan([rule("tcp", 443, 443, ["0.0.0.0/0"])], []) with data.planguard.config as {"public_ingress_ports": []}
	contains(r.msg, "only none may be public")
}

test_rule_unknown_cidr_warns if {
	change := rc("aws_security_group_rule", {"type": "ingress", "protocol": "tcp", "from_port": 22, "to_port": 22}, {"cidr_blocks": true})
	count(sg.deny) == 0 with input as plan([change], [])
	count(sg.warn) == 1 with input as plan([change], [])
}

# --- aws_vpc_security_group_ingress_rule ---

test_vpc_rule_ssh_is_denied if {
	some r in sg.deny with input as plan([vpc_rule("tcp", 22, 22, "0.0.0.0/0", null)], [])
	r.address == "aws_vpc_security_group_ingress_rule.this"
	contains(r.msg, "tcp port 22")
}

test_vpc_rule_all_traffic_ipv6_is_denied if {
	count(sg.deny) == 1 with input as plan([vpc_rule("-1", null, null, null, "::/0")], [])
}

test_vpc_rule_http_passes if {
	count(sg.deny) == 0 with input as plan([vpc_rule("tcp", 80, 80, "0.0.0.0/0", null)], [])
}

test_vpc_rule_from_security_group_passes if {
	change := rc("aws_vpc_security_group_ingress_rule", {"ip_protocol": "tcp", "from_port": 22, "to_port": 22, "referenced_security_group_id": "sg-123"}, {})
	count(sg.deny) == 0 with input as plan([change], [])
}

test_vpc_rule_unknown_cidr_warns if {
	change := rc("aws_vpc_security_group_ingress_rule", {"ip_protocol": "tcp", "from_port": 22, "to_port": 22}, {"cidr_ipv4": true})
	count(sg.deny) == 0 with input as plan([change], [])
	count(sg.warn) == 1 with input as plan([change], [])
}

# METADATA
# title: Security groups do not open ports to the whole internet
# description: |
#   An ingress rule from 0.0.0.0/0 or ::/0 exposes every listening service on its ports to the
#   internet, where SSH, RDP and database ports are scanned within minutes. Only the ports in
#   the `public_ingress_ports` setting (default 80 and 443) may be open to everyone.
# custom:
#   id: aws-ec2-public-ingress
#   level: error
#   resource_types: [aws_security_group, aws_security_group_rule, aws_vpc_security_group_ingress_rule]
#   remediation: Narrow the rule's CIDR blocks to the networks that need access (a VPN, an office range, a load balancer's security group), or put the service behind a load balancer on 80/443.
#   checkov: [CKV_AWS_24, CKV_AWS_25, CKV_AWS_260, CKV_AWS_277]
#   trivy: [AVD-AWS-0107]
package planguard.exposure.ec2_public_ingress

import data.planguard.exposure.helpers
import data.planguard.lib
import rego.v1

rule_fields := ["cidr_blocks", "ipv6_cidr_blocks", "from_port", "to_port", "protocol"]

message(rc, what, cidrs, text) := sprintf(
	"%s: %s is open to %s on %s (only %s may be public)",
	[rc.address, what, concat(", ", sort({c | some c in cidrs; helpers.world_cidr(c)})), text, helpers.allowed_text],
)

# --- aws_security_group inline ingress -------------------------------------------------------

deny contains lib.result(rc, message(rc, "an inline ingress rule", cidrs, text)) if {
	some rc in lib.changes("aws_security_group")
	not planguard.unknown(rc, ["ingress"])
	some i, rule in planguard.value(rc, ["ingress"], [])
	cidrs := array.concat(helpers.as_array(object.get(rule, "cidr_blocks", [])), helpers.as_array(object.get(rule, "ipv6_cidr_blocks", [])))
	some c in cidrs
	helpers.world_cidr(c)
	not rule_unknown(rc, i) # after the cheap test for a world CIDR, which most rules fail
	text := helpers.exposed(rule.protocol, rule.from_port, rule.to_port)
	text != ""
}

rule_unknown(rc, i) if {
	some field in rule_fields
	planguard.unknown_within(rc, ["ingress", i, field])
}

warn contains lib.unknown_result(rc, "`ingress`") if {
	some rc in lib.changes("aws_security_group")
	helpers.unknown_configured(rc, ["ingress"])
}

warn contains lib.unknown_result(rc, sprintf("`ingress.%s`", [field])) if {
	some rc in lib.changes("aws_security_group")
	not planguard.unknown(rc, ["ingress"])
	planguard.unknown_within(rc, ["ingress"]) # one test that most groups fail, before the rule-by-rule one
	some i, _ in planguard.value(rc, ["ingress"], [])
	some field in rule_fields
	planguard.unknown_within(rc, ["ingress", i, field])
}

# --- aws_security_group_rule -----------------------------------------------------------------

deny contains lib.result(rc, message(rc, "ingress rule", cidrs, text)) if {
	some rc in lib.changes("aws_security_group_rule")
	planguard.value(rc, ["type"], "") == "ingress"
	cidrs := array.concat(helpers.as_array(planguard.value(rc, ["cidr_blocks"], [])), helpers.as_array(planguard.value(rc, ["ipv6_cidr_blocks"], [])))
	some c in cidrs
	helpers.world_cidr(c)
	not standalone_unknown(rc) # after the cheap test for a world CIDR, which most rules fail
	text := helpers.exposed(planguard.value(rc, ["protocol"], ""), planguard.value(rc, ["from_port"], null), planguard.value(rc, ["to_port"], null))
	text != ""
}

standalone_unknown(rc) if {
	some field in array.concat(rule_fields, ["type"])
	planguard.unknown_within(rc, [field])
}

warn contains lib.unknown_result(rc, sprintf("`%s`", [field])) if {
	some rc in lib.changes("aws_security_group_rule")
	planguard.value(rc, ["type"], "ingress") == "ingress"
	some field in array.concat(rule_fields, ["type"])
	planguard.unknown_within(rc, [field])
}

# --- aws_vpc_security_group_ingress_rule -----------------------------------------------------

vpc_rule_fields := ["cidr_ipv4", "cidr_ipv6", "from_port", "to_port", "ip_protocol"]

deny contains lib.result(rc, message(rc, "ingress rule", cidrs, text)) if {
	some rc in lib.changes("aws_vpc_security_group_ingress_rule")
	not vpc_rule_unknown(rc)
	cidrs := [c | some attr in ["cidr_ipv4", "cidr_ipv6"]; c := planguard.value(rc, [attr], null); c != null]
	some c in cidrs
	helpers.world_cidr(c)
	text := helpers.exposed(planguard.value(rc, ["ip_protocol"], ""), planguard.value(rc, ["from_port"], null), planguard.value(rc, ["to_port"], null))
	text != ""
}

vpc_rule_unknown(rc) if {
	some field in vpc_rule_fields
	planguard.unknown(rc, [field])
}

warn contains lib.unknown_result(rc, sprintf("`%s`", [field])) if {
	some rc in lib.changes("aws_vpc_security_group_ingress_rule")
	some field in vpc_rule_fields
	planguard.unknown(rc, [field])
}

package planguard.exposure.elb_internet_facing_test

import data.planguard.exposure.elb_internet_facing as lb
import rego.v1

change(kind, name, after, unknown) := {
	"address": sprintf("%s.%s", [kind, name]),
	"type": kind,
	"name": name,
	"mode": "managed",
	"change": {"actions": ["create"], "after": after, "after_unknown": unknown},
}

plan(rc, expressions) := {
	"resource_changes": [rc],
	"configuration": {"root_module": {"resources": [{"address": rc.address, "mode": "managed", "type": rc.type, "name": rc.name, "expressions": expressions}]}},
}

public := change("aws_lb", "web", {"internal": false, "load_balancer_type": "application", "tags": {"Name": "web"}}, {})

test_internet_facing_warns if {
	some r in lb.warn with input as plan(public, {"internal": {"constant_value": false}})
	r.address == "aws_lb.web"
	contains(r.msg, "internet-facing")
}

test_alb_alias_warns if {
	count(lb.warn) == 1 with input as {"resource_changes": [change("aws_alb", "web", {"internal": false}, {})]}
}

test_internal_passes if {
	count(lb.warn) == 0 with input as {"resource_changes": [change("aws_lb", "api", {"internal": true}, {})]}
}

test_unset_internal_is_internet_facing if {
	c := change("aws_lb", "web", {"load_balancer_type": "network"}, {"internal": true})
	some r in lb.warn with input as plan(c, {"load_balancer_type": {"constant_value": "network"}})
	contains(r.msg, "is not set and defaults to")
}

test_unknown_internal_warns if {
	c := change("aws_lb", "web", {}, {"internal": true})
	some r in lb.warn with input as plan(c, {"internal": {"references": ["var.internal"]}})
	contains(r.msg, "unknown until apply")
}

test_tag_allows if {
	c := change("aws_lb", "web", {"internal": false, "tags": {"planguard:public": "true"}}, {})
	count(lb.warn) == 0 with input as {"resource_changes": [c]}
}

test_default_tag_allows if {
	c := change("aws_lb", "web", {"internal": false, "tags": null, "tags_all": {"planguard:public": "true"}}, {})
	count(lb.warn) == 0 with input as {"resource_changes": [c]}
}

test_config_list_allows if {
	count(lb.warn) == 0 with input as {"resource_changes": [public]} with data.planguard.config as {"public_load_balancers": ["aws_lb.web"]}
	count(lb.warn) == 1 with input as {"resource_changes": [public]} with data.planguard.config as {"public_load_balancers": ["aws_lb.other"]}
}

test_config_list_matches_every_instance if {
	c := object.union(change("aws_lb", "web", {"internal": false}, {}), {"address": "module.edge.aws_lb.web[\"eu\"]", "module_address": "module.edge"})
	count(lb.warn) == 0 with input as {"resource_changes": [c]} with data.planguard.config as {"public_load_balancers": ["module.edge.aws_lb.web"]}
}

test_gateway_load_balancer_is_skipped if {
	count(lb.warn) == 0 with input as {"resource_changes": [change("aws_lb", "gw", {"internal": false, "load_balancer_type": "gateway"}, {})]}
}

package planguard.exposure.mq_publicly_accessible_test

import data.planguard.exposure.mq_publicly_accessible
import rego.v1

change(after, unknown) := {
	"address": "aws_mq_broker.main",
	"type": "aws_mq_broker",
	"name": "main",
	"mode": "managed",
	"change": {"actions": ["create"], "after": after, "after_unknown": unknown},
}

plan(rc, expressions) := {
	"resource_changes": [rc],
	"configuration": {"root_module": {"resources": [{"address": "aws_mq_broker.main", "mode": "managed", "type": "aws_mq_broker", "name": "main", "expressions": expressions}]}},
}

test_publicly_accessible_is_denied if {
	some r in mq_publicly_accessible.deny with input as plan(change({"publicly_accessible": true}, {}), {"publicly_accessible": {"constant_value": true}})
	r.address == "aws_mq_broker.main"
	contains(r.msg, "publicly accessible")
}

test_private_passes if {
	count(mq_publicly_accessible.deny) == 0 with input as plan(change({"publicly_accessible": false}, {}), {"publicly_accessible": {"constant_value": false}})
	count(mq_publicly_accessible.warn) == 0 with input as plan(change({"publicly_accessible": false}, {}), {"publicly_accessible": {"constant_value": false}})
}

test_unknown_from_configuration_warns if {
	c := change({}, {"publicly_accessible": true})
	count(mq_publicly_accessible.deny) == 0 with input as plan(c, {"publicly_accessible": {"references": ["var.public"]}})
	count(mq_publicly_accessible.warn) == 1 with input as plan(c, {"publicly_accessible": {"references": ["var.public"]}})
}

test_unknown_without_configuration_warns if {
	count(mq_publicly_accessible.warn) == 1 with input as {"resource_changes": [change({}, {"publicly_accessible": true})]}
}

test_update_is_judged_and_delete_is_not if {
	upd := object.union(change({"publicly_accessible": true}, {}), {"change": {"actions": ["update"]}})
	count(mq_publicly_accessible.deny) == 1 with input as {"resource_changes": [upd]}
	del := object.union(change(null, {}), {"change": {"actions": ["delete"], "before": {"publicly_accessible": true}}})
	count(mq_publicly_accessible.deny) == 0 with input as {"resource_changes": [del]}
}

test_unset_defaults_to_private if {
	count(mq_publicly_accessible.deny) == 0 with input as plan(change({"broker_name": "mq"}, {}), {"broker_name": {"constant_value": "mq"}})
}

package planguard.exposure.rds_publicly_accessible_test

import data.planguard.exposure.rds_publicly_accessible
import rego.v1

change(after, unknown) := {
	"address": "aws_db_instance.main",
	"type": "aws_db_instance",
	"name": "main",
	"mode": "managed",
	"change": {"actions": ["create"], "after": after, "after_unknown": unknown},
}

plan(rc, expressions) := {
	"resource_changes": [rc],
	"configuration": {"root_module": {"resources": [{"address": "aws_db_instance.main", "mode": "managed", "type": "aws_db_instance", "name": "main", "expressions": expressions}]}},
}

test_publicly_accessible_is_denied if {
	some r in rds_publicly_accessible.deny with input as plan(change({"publicly_accessible": true}, {}), {"publicly_accessible": {"constant_value": true}})
	r.address == "aws_db_instance.main"
	contains(r.msg, "publicly accessible")
}

test_private_passes if {
	count(rds_publicly_accessible.deny) == 0 with input as plan(change({"publicly_accessible": false}, {}), {"publicly_accessible": {"constant_value": false}})
	count(rds_publicly_accessible.warn) == 0 with input as plan(change({"publicly_accessible": false}, {}), {"publicly_accessible": {"constant_value": false}})
}

test_unknown_from_configuration_warns if {
	c := change({}, {"publicly_accessible": true})
	count(rds_publicly_accessible.deny) == 0 with input as plan(c, {"publicly_accessible": {"references": ["var.public"]}})
	count(rds_publicly_accessible.warn) == 1 with input as plan(c, {"publicly_accessible": {"references": ["var.public"]}})
}

test_unknown_without_configuration_warns if {
	count(rds_publicly_accessible.warn) == 1 with input as {"resource_changes": [change({}, {"publicly_accessible": true})]}
}

test_update_is_judged_and_delete_is_not if {
	upd := object.union(change({"publicly_accessible": true}, {}), {"change": {"actions": ["update"]}})
	count(rds_publicly_accessible.deny) == 1 with input as {"resource_changes": [upd]}
	del := object.union(change(null, {}), {"change": {"actions": ["delete"], "before": {"publicly_accessible": true}}})
	count(rds_publicly_accessible.deny) == 0 with input as {"resource_changes": [del]}
}

test_unset_defaults_to_private if {
	count(rds_publicly_accessible.deny) == 0 with input as plan(change({"identifier": "db"}, {}), {"identifier": {"constant_value": "db"}})
}

test_public_aurora_cluster_instance_is_denied if {
	inp := {"resource_changes": [{
		"address": "aws_rds_cluster_instance.writer", "type": "aws_rds_cluster_instance", "name": "writer", "mode": "managed",
		"change": {"actions": ["create"], "after": {"publicly_accessible": true, "engine": "aurora-postgresql"}, "after_unknown": {}},
	}]}
	some r in rds_publicly_accessible.deny with input as inp
	r.address == "aws_rds_cluster_instance.writer"
}

package planguard.safety.stateful_destroy_test

import data.planguard.safety.stateful_destroy
import rego.v1

change(type, name, actions, extra) := object.union(
	{
		"address": sprintf("%s.%s", [type, name]),
		"type": type,
		"name": name,
		"mode": "managed",
		"change": {"actions": actions, "before": {"id": "x"}, "after": null, "after_unknown": {}},
	},
	extra,
)

plan(rcs) := {"resource_changes": rcs}

test_deleting_a_database_is_denied if {
	rc := change("aws_db_instance", "main", ["delete"], {"action_reason": "delete_because_no_resource_config"})
	some r in stateful_destroy.deny with input as plan([rc])
	r.address == "aws_db_instance.main"
		contains(r.msg, "delete_because_no_resource_config")
	contains(r.msg, "its block was removed from the configuration")
	contains(r.msg, "the plan deletes this aws_db_instance because delete_because_no_resource_config: its block")
	endswith(r.msg, "it needs explicit approval: a policy owner can approve it with `planguard approve_policies`")
}

test_replacing_a_bucket_names_the_reason_and_paths if {
	rc := change("aws_s3_bucket", "logs", ["delete", "create"], {
		"action_reason": "replace_because_cannot_update",
		"change": {"actions": ["delete", "create"], "after": {"bucket": "new"}, "after_unknown": {}, "replace_paths": [["bucket"]]},
	})
	some r in stateful_destroy.deny with input as plan([rc])
	contains(r.msg, "replaces this aws_s3_bucket (destroy, then create)")
	contains(r.msg, "replace_because_cannot_update")
	contains(r.msg, "forced by a change to `bucket`")
	not contains(r.msg, "deletes this")
}

test_create_before_destroy_replace_is_denied if {
	rc := change("aws_ebs_volume", "data", ["create", "delete"], {"change": {
		"actions": ["create", "delete"], "after": {}, "after_unknown": {},
		"replace_paths": [["availability_zone"], ["tags", "Name"]],
	}})
	some r in stateful_destroy.deny with input as plan([rc])
	contains(r.msg, "create_before_destroy")
	contains(r.msg, "`availability_zone`, `tags.Name`")
	not contains(r.msg, "(no action_reason in the plan)")
}

test_replace_without_reason_says_so if {
	rc := change("aws_kms_key", "main", ["delete", "create"], {})
	some r in stateful_destroy.deny with input as plan([rc])
	contains(r.msg, "(no action_reason in the plan)")
}

test_nested_module_subnet_delete_is_denied if {
	rc := object.union(change("aws_subnet", "private", ["delete"], {"action_reason": "delete_because_each_key"}), {
		"address": "module.network.aws_subnet.private[\"a\"]",
		"module_address": "module.network",
		"index": "a",
	})
	some r in stateful_destroy.deny with input as plan([rc])
	r.address == "module.network.aws_subnet.private[\"a\"]"
	contains(r.msg, "its key is no longer in `for_each`")
}

test_deposed_delete_is_denied if {
	rc := change("aws_rds_cluster", "main", ["delete"], {"deposed": "00000001"})
	some r in stateful_destroy.deny with input as plan([rc])
	contains(r.msg, "deposed object (00000001)")
}

test_update_create_noop_and_read_pass if {
	rcs := [
		change("aws_dynamodb_table", "t", ["update"], {}),
		change("aws_s3_bucket", "b", ["create"], {}),
		change("aws_vpc", "v", ["no-op"], {}),
		object.union(change("aws_s3_bucket", "d", ["read"], {}), {"mode": "data"}),
	]
	count(stateful_destroy.deny) == 0 with input as plan(rcs)
}

test_forget_is_not_a_destroy if {
	count(stateful_destroy.deny) == 0 with input as plan([change("aws_s3_bucket", "b", ["forget"], {})])
}

test_stateless_types_pass if {
	rcs := [change("aws_instance", "web", ["delete", "create"], {}), change("aws_security_group_rule", "r", ["delete"], {})]
	count(stateful_destroy.deny) == 0 with input as plan(rcs)
}

test_types_outside_the_list_are_not_guarded if {
	rc := change("aws_sqs_queue", "jobs", ["delete"], {})
	count(stateful_destroy.deny) == 0 with input as plan([rc])
}

package planguard.encryption.cloudwatch_log_group_cmk_test

import data.planguard.encryption.cloudwatch_log_group_cmk
import rego.v1

plan(after, unknown) := {"resource_changes": [{
	"address": "aws_cloudwatch_log_group.app", "type": "aws_cloudwatch_log_group", "name": "app", "mode": "managed",
	"change": {"actions": ["create"], "after": object.union({"name": "/app/api", "retention_in_days": 30}, after), "after_unknown": unknown},
}]}

test_log_group_without_key_is_reported if {
	some r in cloudwatch_log_group_cmk.deny with input as plan({"kms_key_id": null}, {"arn": true})
	r.address == "aws_cloudwatch_log_group.app"
	contains(r.msg, "no kms_key_id")
}

test_log_group_with_key_passes if {
	count(cloudwatch_log_group_cmk.deny) == 0 with input as plan({"kms_key_id": "arn:aws:kms:eu-west-1:111122223333:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"}, {})
}

test_key_created_in_the_same_plan_passes if {
	count(cloudwatch_log_group_cmk.deny) == 0 with input as plan({}, {"kms_key_id": true})
}

package planguard.encryption.sqs_queue_encryption_test

import data.planguard.encryption.sqs_queue_encryption
import rego.v1

plan(after, unknown, expressions) := {
	"resource_changes": [{
		"address": "aws_sqs_queue.jobs", "type": "aws_sqs_queue", "name": "jobs", "mode": "managed",
		"change": {"actions": ["create"], "after": object.union({"name": "jobs"}, after), "after_unknown": unknown},
	}],
	"configuration": {"root_module": {"resources": [{
		"address": "aws_sqs_queue.jobs", "mode": "managed", "type": "aws_sqs_queue", "name": "jobs",
		"provider_config_key": "aws", "expressions": object.union({"name": {"constant_value": "jobs"}}, expressions),
	}]}},
}

test_default_sse_sqs_passes if {
	p := plan({"kms_master_key_id": null}, {"sqs_managed_sse_enabled": true}, {})
	count(sqs_queue_encryption.deny) == 0 with input as p
	count(sqs_queue_encryption.warn) == 0 with input as p
}

test_sse_sqs_turned_off_is_denied if {
	some r in sqs_queue_encryption.deny with input as plan({"sqs_managed_sse_enabled": false, "kms_master_key_id": null}, {}, {"sqs_managed_sse_enabled": {"constant_value": false}})
	r.address == "aws_sqs_queue.jobs"
	contains(r.msg, "sqs_managed_sse_enabled = false")
}

test_kms_key_passes if {
	p := plan({"sqs_managed_sse_enabled": false}, {"kms_master_key_id": true}, {"kms_master_key_id": {"references": ["aws_kms_key.main.arn", "aws_kms_key.main"]}})
	count(sqs_queue_encryption.deny) == 0 with input as p
}

test_aws_managed_kms_alias_passes if {
	count(sqs_queue_encryption.deny) == 0 with input as plan({"sqs_managed_sse_enabled": false, "kms_master_key_id": "alias/aws/sqs"}, {}, {"kms_master_key_id": {"constant_value": "alias/aws/sqs"}})
}

test_unknown_sse_setting_warns if {
	p := plan({}, {"sqs_managed_sse_enabled": true}, {"sqs_managed_sse_enabled": {"references": ["var.sse"]}})
	count(sqs_queue_encryption.deny) == 0 with input as p
	count(sqs_queue_encryption.warn) == 1 with input as p
}

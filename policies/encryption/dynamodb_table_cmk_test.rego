package planguard.encryption.dynamodb_table_cmk_test

import data.planguard.encryption.dynamodb_table_cmk
import rego.v1

plan(actions, after, unknown, expressions) := {
	"resource_changes": [{
		"address": "aws_dynamodb_table.orders", "type": "aws_dynamodb_table", "name": "orders", "mode": "managed",
		"change": {"actions": actions, "after": object.union({"name": "orders", "billing_mode": "PAY_PER_REQUEST"}, after), "after_unknown": unknown},
	}],
	"configuration": {"root_module": {"resources": [{
		"address": "aws_dynamodb_table.orders", "mode": "managed", "type": "aws_dynamodb_table", "name": "orders",
		"provider_config_key": "aws", "expressions": object.union({"name": {"constant_value": "orders"}}, expressions),
	}]}},
}

cmk_expr := {"server_side_encryption": [{"enabled": {"constant_value": true}, "kms_key_arn": {"references": ["aws_kms_key.main.arn", "aws_kms_key.main"]}}]}

test_customer_managed_key_passes if {
	p := plan(["create"], {"server_side_encryption": [{"enabled": true}]}, {"server_side_encryption": [{"kms_key_arn": true}]}, cmk_expr)
	count(dynamodb_table_cmk.deny) == 0 with input as p
	count(dynamodb_table_cmk.warn) == 0 with input as p
}

test_no_sse_block_is_reported if {
	p := plan(["create"], {}, {"server_side_encryption": true}, {})
	some r in dynamodb_table_cmk.deny with input as p
	r.address == "aws_dynamodb_table.orders"
	contains(r.msg, "AWS owned key")
	count(dynamodb_table_cmk.warn) == 0 with input as p
}

test_sse_disabled_is_reported if {
	p := plan(["create"], {"server_side_encryption": [{"enabled": false}]}, {"server_side_encryption": [{"kms_key_arn": true}]}, {"server_side_encryption": [{"enabled": {"constant_value": false}}]})
	count(dynamodb_table_cmk.deny) == 1 with input as p
}

test_aws_managed_key_is_reported if {
	p := plan(["create"], {"server_side_encryption": [{"enabled": true}]}, {"server_side_encryption": [{"kms_key_arn": true}]}, {"server_side_encryption": [{"enabled": {"constant_value": true}}]})
	some r in dynamodb_table_cmk.deny with input as p
	contains(r.msg, "aws/dynamodb")
}

test_aws_managed_key_on_update_is_reported_from_the_configuration if {
	arn := "arn:aws:kms:eu-west-1:111122223333:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
	p := plan(["update"], {"server_side_encryption": [{"enabled": true, "kms_key_arn": arn}]}, {}, {"server_side_encryption": [{"enabled": {"constant_value": true}}]})
	count(dynamodb_table_cmk.deny) == 1 with input as p
}

test_unknown_enabled_warns if {
	p := plan(["create"], {"server_side_encryption": [{}]}, {"server_side_encryption": [{"enabled": true, "kms_key_arn": true}]}, {"server_side_encryption": [{"enabled": {"references": ["var.sse"]}}]})
	count(dynamodb_table_cmk.deny) == 0 with input as p
	count(dynamodb_table_cmk.warn) == 1 with input as p
}

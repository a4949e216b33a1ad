package planguard.encryption.s3_sse_kms_test

import data.planguard.encryption.s3_sse_kms
import rego.v1

sse(algorithm, unknown) := [
	{
		"address": "aws_s3_bucket_server_side_encryption_configuration.logs", "type": "aws_s3_bucket_server_side_encryption_configuration", "name": "logs", "mode": "managed",
		"change": {"actions": ["create"], "after": {"rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": algorithm, "kms_master_key_id": null}], "bucket_key_enabled": null}]}, "after_unknown": object.union({"bucket": true, "id": true}, unknown)},
	},
	{
		"address": "aws_s3_bucket_server_side_encryption_configuration.logs", "mode": "managed", "type": "aws_s3_bucket_server_side_encryption_configuration", "name": "logs", "provider_config_key": "aws",
		"expressions": {
			"bucket": {"references": ["aws_s3_bucket.logs.id", "aws_s3_bucket.logs"]},
			"rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": {"references": ["var.algorithm"]}}]}],
		},
	},
]

access_logging := [
	{
		"address": "aws_s3_bucket_logging.app", "type": "aws_s3_bucket_logging", "name": "app", "mode": "managed",
		"change": {"actions": ["create"], "after": {"target_prefix": "app/"}, "after_unknown": {"bucket": true, "target_bucket": true, "id": true}},
	},
	{
		"address": "aws_s3_bucket_logging.app", "mode": "managed", "type": "aws_s3_bucket_logging", "name": "app", "provider_config_key": "aws",
		"expressions": {
			"bucket": {"references": ["aws_s3_bucket.app.id", "aws_s3_bucket.app"]},
			"target_bucket": {"references": ["aws_s3_bucket.logs.id", "aws_s3_bucket.logs"]},
		},
	},
]

plan(pairs) := {
	"resource_changes": [pair[0] | some pair in pairs],
	"configuration": {"root_module": {"resources": [pair[1] | some pair in pairs]}},
}

kms := {"s3_require_kms": true}

test_aes256_is_denied_when_kms_is_required if {
	some r in s3_sse_kms.deny with input as plan([sse("AES256", {})]) with data.planguard.config as kms
	r.address == "aws_s3_bucket_server_side_encryption_configuration.logs"
	contains(r.msg, "uses AES256")
}

test_aes256_is_fine_without_the_option if {
	count(s3_sse_kms.deny) == 0 with input as plan([sse("AES256", {})])
}

test_kms_and_dsse_pass if {
	count(s3_sse_kms.deny) == 0 with input as plan([sse("aws:kms", {})]) with data.planguard.config as kms
	count(s3_sse_kms.deny) == 0 with input as plan([sse("aws:kms:dsse", {})]) with data.planguard.config as kms
}

test_access_log_target_is_exempt if {
	count(s3_sse_kms.deny) == 0 with input as plan([sse("AES256", {}), access_logging]) with data.planguard.config as kms
}

test_unknown_algorithm_warns if {
	unknown := {"rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": true}]}]}
	p := plan([sse(null, unknown)])
	count(s3_sse_kms.deny) == 0 with input as p with data.planguard.config as kms
	count(s3_sse_kms.warn) == 1 with input as p with data.planguard.config as kms
}

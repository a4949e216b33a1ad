package planguard.encryption.s3_bucket_kms_test

import data.planguard.encryption.s3_bucket_kms
import rego.v1

bucket(name, after, expressions) := [
	{
		"address": sprintf("aws_s3_bucket.%s", [name]), "type": "aws_s3_bucket", "name": name, "mode": "managed",
		"change": {"actions": ["create"], "after": object.union({"bucket": sprintf("acme-%s", [name])}, after), "after_unknown": {"id": true, "arn": true}},
	},
	{"address": sprintf("aws_s3_bucket.%s", [name]), "mode": "managed", "type": "aws_s3_bucket", "name": name, "provider_config_key": "aws", "expressions": object.union({"bucket": {"constant_value": sprintf("acme-%s", [name])}}, expressions)},
]

sse_for(target) := [
	{
		"address": "aws_s3_bucket_server_side_encryption_configuration.this", "type": "aws_s3_bucket_server_side_encryption_configuration", "name": "this", "mode": "managed",
		"change": {"actions": ["create"], "after": {"rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": "AES256"}]}]}, "after_unknown": {"bucket": true}},
	},
	{
		"address": "aws_s3_bucket_server_side_encryption_configuration.this", "mode": "managed", "type": "aws_s3_bucket_server_side_encryption_configuration", "name": "this", "provider_config_key": "aws",
		"expressions": {"bucket": {"references": [sprintf("aws_s3_bucket.%s.id", [target]), sprintf("aws_s3_bucket.%s", [target])]}},
	},
]

logging_to(target) := [
	{
		"address": "aws_s3_bucket_logging.app", "type": "aws_s3_bucket_logging", "name": "app", "mode": "managed",
		"change": {"actions": ["create"], "after": {"target_bucket": sprintf("acme-%s", [target])}, "after_unknown": {"bucket": true}},
	},
	{
		"address": "aws_s3_bucket_logging.app", "mode": "managed", "type": "aws_s3_bucket_logging", "name": "app", "provider_config_key": "aws",
		"expressions": {"target_bucket": {"references": [sprintf("aws_s3_bucket.%s.id", [target]), sprintf("aws_s3_bucket.%s", [target])]}},
	},
]

plan(pairs) := {
	"resource_changes": [pair[0] | some pair in pairs],
	"configuration": {"root_module": {"resources": [pair[1] | some pair in pairs]}},
}

kms := {"s3_require_kms": true}

inline(algorithm) := [
	{"server_side_encryption_configuration": [{"rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": algorithm, "kms_master_key_id": ""}]}]}]},
	{"server_side_encryption_configuration": [{"rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": {"constant_value": algorithm}}]}]}]},
]

test_bucket_without_configuration_is_denied_when_kms_is_required if {
	some r in s3_bucket_kms.deny with input as plan([bucket("uploads", {}, {})]) with data.planguard.config as kms
	r.address == "aws_s3_bucket.uploads"
	contains(r.msg, "gets SSE-S3")
}

test_nothing_without_the_option if {
	count(s3_bucket_kms.deny) == 0 with input as plan([bucket("uploads", {}, {})])
}

test_linked_configuration_is_left_to_aws_s3_sse_kms if {
	count(s3_bucket_kms.deny) == 0 with input as plan([bucket("data", {}, {}), sse_for("data")]) with data.planguard.config as kms
}

test_inline_aes256_is_denied if {
	[after, expr] := inline("AES256")
	some r in s3_bucket_kms.deny with input as plan([bucket("legacy", after, expr)]) with data.planguard.config as kms
	contains(r.msg, "inline server_side_encryption_configuration uses AES256")
}

test_inline_kms_passes if {
	[after, expr] := inline("aws:kms")
	count(s3_bucket_kms.deny) == 0 with input as plan([bucket("legacy", after, expr)]) with data.planguard.config as kms
}

test_access_log_target_is_exempt if {
	count(s3_bucket_kms.deny) == 0 with input as plan([bucket("logs", {}, {}), logging_to("logs")]) with data.planguard.config as kms
}

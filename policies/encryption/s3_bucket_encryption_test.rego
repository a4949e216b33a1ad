package planguard.encryption.s3_bucket_encryption_test

import data.planguard.encryption.s3_bucket_encryption
import rego.v1

bucket(name, expressions) := [
	{
		"address": sprintf("aws_s3_bucket.%s", [name]), "type": "aws_s3_bucket", "name": name, "mode": "managed",
		"change": {"actions": ["create"], "after": {"bucket_prefix": name, "force_destroy": false}, "after_unknown": {"id": true, "bucket": true, "arn": true, "server_side_encryption_configuration": true}},
	},
	{"address": sprintf("aws_s3_bucket.%s", [name]), "mode": "managed", "type": "aws_s3_bucket", "name": name, "provider_config_key": "aws", "expressions": expressions},
]

sse(name, target, actions) := [
	{
		"address": sprintf("aws_s3_bucket_server_side_encryption_configuration.%s", [name]), "type": "aws_s3_bucket_server_side_encryption_configuration", "name": name, "mode": "managed",
		"change": {"actions": actions, "after": {"rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": "aws:kms"}]}]}, "after_unknown": {"bucket": true, "id": true}},
	},
	{
		"address": sprintf("aws_s3_bucket_server_side_encryption_configuration.%s", [name]), "mode": "managed", "type": "aws_s3_bucket_server_side_encryption_configuration", "name": name, "provider_config_key": "aws",
		"expressions": {"bucket": {"references": [sprintf("aws_s3_bucket.%s.id", [target]), sprintf("aws_s3_bucket.%s", [target])]}},
	},
]

plan(pairs) := {
	"resource_changes": [pair[0] | some pair in pairs],
	"configuration": {"root_module": {"resources": [pair[1] | some pair in pairs]}},
}

test_bucket_without_encryption_configuration_is_reported if {
	some r in s3_bucket_encryption.deny with input as plan([bucket("uploads", {})])
	r.address == "aws_s3_bucket.uploads"
	contains(r.msg, "no aws_s3_bucket_server_side_encryption_configuration")
}

test_configuration_linked_by_reference_passes if {
	count(s3_bucket_encryption.deny) == 0 with input as plan([bucket("data", {}), sse("data", "data", ["create"])])
}

test_configuration_for_another_bucket_does_not_count if {
	some r in s3_bucket_encryption.deny with input as plan([bucket("data", {}), bucket("uploads", {}), sse("data", "data", ["create"])])
	r.address == "aws_s3_bucket.uploads"
	count(s3_bucket_encryption.deny) == 1 with input as plan([bucket("data", {}), bucket("uploads", {}), sse("data", "data", ["create"])])
}

test_unchanged_configuration_still_counts if {
	count(s3_bucket_encryption.deny) == 0 with input as plan([bucket("data", {}), sse("data", "data", ["no-op"])])
}

test_configuration_being_deleted_does_not_count if {
	[change, block] := sse("data", "data", ["delete"])
	deleted := object.union(change, {"change": {"after": null, "after_unknown": {}}})
	count(s3_bucket_encryption.deny) == 1 with input as plan([bucket("data", {}), [deleted, block]])
}

test_legacy_inline_configuration_passes if {
	inline := {"server_side_encryption_configuration": [{"rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": {"constant_value": "AES256"}}]}]}]}
	count(s3_bucket_encryption.deny) == 0 with input as plan([bucket("legacy", inline)])
}

test_linked_by_known_name_without_configuration if {
	p := {"resource_changes": [
		{"address": "aws_s3_bucket.data", "type": "aws_s3_bucket", "name": "data", "mode": "managed", "change": {"actions": ["update"], "after": {"bucket": "acme-data"}, "after_unknown": {}}},
		{"address": "aws_s3_bucket_server_side_encryption_configuration.data", "type": "aws_s3_bucket_server_side_encryption_configuration", "name": "data", "mode": "managed", "change": {"actions": ["create"], "after": {"bucket": "acme-data"}, "after_unknown": {}}},
	]}
	count(s3_bucket_encryption.deny) == 0 with input as p
}

test_silent_when_kms_is_required if {
	count(s3_bucket_encryption.deny) == 0 with input as plan([bucket("uploads", {})]) with data.planguard.config as {"s3_require_kms": true}
}

package planguard.encryption.kinesis_stream_encryption_test

import data.planguard.encryption.kinesis_stream_encryption
import rego.v1

plan(after, unknown, expressions) := {
	"resource_changes": [{
		"address": "aws_kinesis_stream.clicks", "type": "aws_kinesis_stream", "name": "clicks", "mode": "managed",
		"change": {"actions": ["create"], "after": object.union({"name": "clicks", "encryption_type": "NONE"}, after), "after_unknown": unknown},
	}],
	"configuration": {"root_module": {"resources": [{
		"address": "aws_kinesis_stream.clicks", "mode": "managed", "type": "aws_kinesis_stream", "name": "clicks",
		"provider_config_key": "aws", "expressions": object.union({"name": {"constant_value": "clicks"}}, expressions),
	}]}},
}

test_kms_stream_passes if {
	p := plan({"encryption_type": "KMS", "kms_key_id": "alias/aws/kinesis"}, {}, {"encryption_type": {"constant_value": "KMS"}, "kms_key_id": {"constant_value": "alias/aws/kinesis"}})
	count(kinesis_stream_encryption.deny) == 0 with input as p
	count(kinesis_stream_encryption.warn) == 0 with input as p
}

test_default_none_is_denied if {
	some r in kinesis_stream_encryption.deny with input as plan({}, {}, {})
	r.address == "aws_kinesis_stream.clicks"
	contains(r.msg, "encryption_type = \"NONE\" (not set, so the default applies)")
}

test_explicit_none_is_denied if {
	count(kinesis_stream_encryption.deny) == 1 with input as plan({}, {}, {"encryption_type": {"constant_value": "NONE"}})
}

test_unknown_warns if {
	p := plan({"encryption_type": null}, {"encryption_type": true}, {"encryption_type": {"references": ["var.encryption_type"]}})
	count(kinesis_stream_encryption.deny) == 0 with input as p
	count(kinesis_stream_encryption.warn) == 1 with input as p
}

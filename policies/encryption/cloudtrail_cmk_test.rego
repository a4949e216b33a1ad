package planguard.encryption.cloudtrail_cmk_test

import data.planguard.encryption.cloudtrail_cmk
import rego.v1

plan(after, unknown) := {"resource_changes": [{
	"address": "aws_cloudtrail.org", "type": "aws_cloudtrail", "name": "org", "mode": "managed",
	"change": {"actions": ["create"], "after": object.union({"name": "org", "s3_bucket_name": "acme-trail"}, after), "after_unknown": unknown},
}]}

test_trail_without_key_is_denied if {
	some r in cloudtrail_cmk.deny with input as plan({"kms_key_id": null}, {})
	r.address == "aws_cloudtrail.org"
	contains(r.msg, "no kms_key_id")
}

test_trail_with_key_passes if {
	count(cloudtrail_cmk.deny) == 0 with input as plan({"kms_key_id": "arn:aws:kms:eu-west-1:111122223333:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"}, {})
	count(cloudtrail_cmk.deny) == 0 with input as plan({}, {"kms_key_id": true})
}

package planguard.exposure.s3_public_access_block_weakened_test

import data.planguard.exposure.s3_public_access_block_weakened as weakened
import rego.v1

rc(kind, after, unknown) := {
	"address": sprintf("%s.this", [kind]),
	"type": kind,
	"name": "this",
	"mode": "managed",
	"change": {"actions": ["create"], "after": after, "after_unknown": unknown},
}

full := {"block_public_acls": true, "block_public_policy": true, "ignore_public_acls": true, "restrict_public_buckets": true}

pab(after, unknown) := rc("aws_s3_bucket_public_access_block", after, unknown)

test_flag_turned_off_is_denied if {
	some r in weakened.deny with input as {"resource_changes": [pab(object.union(full, {"block_public_policy": false, "restrict_public_buckets": false}), {})]}
	r.address == "aws_s3_bucket_public_access_block.this"
	contains(r.msg, "`block_public_policy`, `restrict_public_buckets`")
}

test_unset_flags_default_to_false if {
	count(weakened.deny) == 1 with input as {"resource_changes": [pab({"bucket": "b"}, {})]}
}

test_all_flags_on_passes if {
	count(weakened.deny) == 0 with input as {"resource_changes": [pab(full, {})]}
	count(weakened.warn) == 0 with input as {"resource_changes": [pab(full, {})]}
}

test_account_block_covers_the_flag if {
	account := rc("aws_s3_account_public_access_block", full, {})
	count(weakened.deny) == 0 with input as {"resource_changes": [pab(object.union(full, {"ignore_public_acls": false}), {}), account]}
}

test_unknown_flag_warns if {
	change := pab(object.remove(full, ["block_public_acls"]), {"block_public_acls": true})
	count(weakened.deny) == 0 with input as {"resource_changes": [change]}
	count(weakened.warn) == 1 with input as {"resource_changes": [change]}
}

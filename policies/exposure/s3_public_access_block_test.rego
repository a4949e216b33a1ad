package planguard.exposure.s3_public_access_block_test

import data.planguard.exposure.s3_public_access_block as pab_policy
import rego.v1

rc(kind, name, after, unknown, actions) := {
	"address": sprintf("%s.%s", [kind, name]),
	"type": kind,
	"name": name,
	"mode": "managed",
	"change": {"actions": actions, "after": after, "after_unknown": unknown},
}

block(kind, name, expressions) := {"address": sprintf("%s.%s", [kind, name]), "mode": "managed", "type": kind, "name": name, "expressions": expressions}

plan(rcs, blocks) := {"resource_changes": rcs, "configuration": {"root_module": {"resources": blocks}}}

full := {"block_public_acls": true, "block_public_policy": true, "ignore_public_acls": true, "restrict_public_buckets": true}

new_bucket := rc("aws_s3_bucket", "logs", {"bucket": "acme-logs"}, {"id": true, "arn": true}, ["create"])

bucket_block := block("aws_s3_bucket", "logs", {"bucket": {"constant_value": "acme-logs"}})

new_pab := rc("aws_s3_bucket_public_access_block", "logs", full, {"bucket": true, "id": true}, ["create"])

pab_block := block("aws_s3_bucket_public_access_block", "logs", {"bucket": {"references": ["aws_s3_bucket.logs.id", "aws_s3_bucket.logs"]}})

test_bucket_without_block_is_denied if {
	some r in pab_policy.deny with input as plan([new_bucket], [bucket_block])
	r.address == "aws_s3_bucket.logs"
}

test_block_created_with_the_bucket_is_linked_by_reference if {
	count(pab_policy.deny) == 0 with input as plan([new_bucket, new_pab], [bucket_block, pab_block])
}

test_block_linked_by_known_bucket_name if {
	bucket := rc("aws_s3_bucket", "logs", {"bucket": "acme-logs", "id": "acme-logs"}, {}, ["update"])
	pab := rc("aws_s3_bucket_public_access_block", "logs", object.union(full, {"bucket": "acme-logs"}), {}, ["no-op"])
	count(pab_policy.deny) == 0 with input as plan([bucket, pab], [])
}

test_block_for_another_bucket_does_not_count if {
	other := block("aws_s3_bucket_public_access_block", "logs", {"bucket": {"references": ["aws_s3_bucket.other.id", "aws_s3_bucket.other"]}})
	count(pab_policy.deny) == 1 with input as plan([new_bucket, new_pab], [bucket_block, other])
}

test_block_in_another_module_does_not_count if {
	pab := object.union(new_pab, {"address": "module.x.aws_s3_bucket_public_access_block.logs", "module_address": "module.x"})
	count(pab_policy.deny) == 1 with input as plan([new_bucket, pab], [bucket_block, pab_block])
}

test_block_being_deleted_does_not_count if {
	pab := rc("aws_s3_bucket_public_access_block", "logs", null, {}, ["delete"])
	count(pab_policy.deny) == 1 with input as plan([new_bucket, pab], [bucket_block, pab_block])
}

test_account_block_with_all_flags_passes if {
	account := rc("aws_s3_account_public_access_block", "this", full, {}, ["no-op"])
	count(pab_policy.deny) == 0 with input as plan([new_bucket, account], [bucket_block])
}

test_weak_account_block_does_not_count if {
	account := rc("aws_s3_account_public_access_block", "this", object.union(full, {"block_public_policy": false}), {}, ["no-op"])
	count(pab_policy.deny) == 1 with input as plan([new_bucket, account], [bucket_block])
}

test_unchanged_bucket_is_not_judged if {
	bucket := rc("aws_s3_bucket", "logs", {"bucket": "acme-logs"}, {}, ["no-op"])
	count(pab_policy.deny) == 0 with input as plan([bucket], [bucket_block])
}

test_unchanged_bucket_is_judged_with_check_unchanged if {
	bucket := rc("aws_s3_bucket", "logs", {"bucket": "acme-logs"}, {}, ["no-op"])
	count(pab_policy.deny) == 1 with input as plan([bucket], [bucket_block]) with data.planguard.config as {"check_unchanged": true}
}

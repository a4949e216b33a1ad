package planguard.exposure.s3_public_policy_test

import data.planguard.exposure.s3_public_policy
import rego.v1

rc(kind, name, after, unknown) := {
	"address": sprintf("%s.%s", [kind, name]),
	"type": kind,
	"name": name,
	"mode": "managed",
	"change": {"actions": ["create"], "after": after, "after_unknown": unknown},
}

block(kind, name, expressions) := {"address": sprintf("%s.%s", [kind, name]), "mode": "managed", "type": kind, "name": name, "expressions": expressions}

plan(rcs, blocks) := {"resource_changes": rcs, "configuration": {"root_module": {"resources": blocks}}}

bucket_ref := {"references": ["aws_s3_bucket.site.id", "aws_s3_bucket.site"]}

doc(statements) := json.marshal({"Version": "2012-10-17", "Statement": statements})

public_read := {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::site/*"}

policy(document) := rc("aws_s3_bucket_policy", "site", {"bucket": "site", "policy": document}, {})

policy_block := block("aws_s3_bucket_policy", "site", {"bucket": bucket_ref, "policy": {"references": ["data.aws_iam_policy_document.site.json", "data.aws_iam_policy_document.site"]}})

test_principal_star_is_denied if {
	some r in s3_public_policy.deny with input as plan([policy(doc([public_read]))], [policy_block])
	r.address == "aws_s3_bucket_policy.site"
	contains(r.msg, "s3:GetObject")
}

test_statement_as_object_and_aws_star_forms_are_denied if {
	every principal in [{"AWS": "*"}, {"AWS": ["*"]}, {"AWS": ["arn:aws:iam::111122223333:root", "*"]}] {
		stmt := object.union(public_read, {"Principal": principal})
		count(s3_public_policy.deny) == 1 with input as plan([policy(json.marshal({"Statement": stmt}))], [])
	}
}

test_not_principal_allow_is_denied if {
	stmt := object.union(object.remove(public_read, ["Principal"]), {"NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"}})
	count(s3_public_policy.deny) == 1 with input as plan([policy(doc([stmt]))], [])
}

test_named_principal_passes if {
	stmt := object.union(public_read, {"Principal": {"AWS": "arn:aws:iam::111122223333:root"}})
	count(s3_public_policy.deny) == 0 with input as plan([policy(doc([stmt]))], [])
}

test_restricting_condition_passes if {
	stmt := object.union(public_read, {"Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0123456789abcdef0"}}})
	count(s3_public_policy.deny) == 0 with input as plan([policy(doc([stmt]))], [])
}

test_non_restricting_condition_is_still_denied if {
	every condition in [
		{"Bool": {"aws:SecureTransport": "true"}},
		{"StringNotEquals": {"aws:SourceAccount": "111122223333"}},
		{"StringEqualsIfExists": {"aws:SourceArn": "arn:aws:cloudfront::111122223333:distribution/E1"}},
		{"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}},
		{"StringLike": {"aws:PrincipalOrgID": "*"}},
	] {
		stmt := object.union(public_read, {"Condition": condition})
		count(s3_public_policy.deny) == 1 with input as plan([policy(doc([stmt]))], [])
	}
}

test_deny_statement_with_star_passes if {
	stmt := {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
	count(s3_public_policy.deny) == 0 with input as plan([policy(doc([stmt]))], [])
}

test_invalid_json_is_not_an_error if {
	count(s3_public_policy.deny) == 0 with input as plan([policy("not json")], [])
}

test_restrict_public_buckets_on_the_linked_block_passes if {
	pab := rc("aws_s3_bucket_public_access_block", "site", {"bucket": "site", "restrict_public_buckets": true}, {})
	count(s3_public_policy.deny) == 0 with input as plan([policy(doc([public_read])), pab], [policy_block])
}

test_block_linked_by_reference_when_bucket_is_unknown if {
	change := rc("aws_s3_bucket_policy", "site", {"policy": doc([public_read])}, {"bucket": true})
	pab := rc("aws_s3_bucket_public_access_block", "site", {"restrict_public_buckets": true}, {"bucket": true})
	pab_block := block("aws_s3_bucket_public_access_block", "site", {"bucket": bucket_ref})
	count(s3_public_policy.deny) == 0 with input as plan([change, pab], [policy_block, pab_block])
	count(s3_public_policy.deny) == 1 with input as plan([change, pab], [policy_block])
}

test_account_block_with_restrict_public_buckets_passes if {
	account := rc("aws_s3_account_public_access_block", "this", {"restrict_public_buckets": true}, {})
	count(s3_public_policy.deny) == 0 with input as plan([policy(doc([public_read])), account], [])
}

test_unknown_policy_warns if {
	change := rc("aws_s3_bucket_policy", "site", {}, {"bucket": true, "policy": true})
	count(s3_public_policy.deny) == 0 with input as plan([change], [policy_block])
	count(s3_public_policy.warn) == 1 with input as plan([change], [policy_block])
}

test_legacy_inline_policy_is_denied if {
	bucket := rc("aws_s3_bucket", "site", {"bucket": "site", "policy": doc([public_read])}, {})
	some r in s3_public_policy.deny with input as plan([bucket], [])
	r.address == "aws_s3_bucket.site"
}

test_legacy_inline_policy_left_unset_is_silent if {
	bucket := rc("aws_s3_bucket", "site", {"bucket": "site"}, {"policy": true})
	count(s3_public_policy.warn) == 0 with input as plan([bucket], [block("aws_s3_bucket", "site", {"bucket": {"constant_value": "site"}})])
}

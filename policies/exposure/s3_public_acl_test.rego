package planguard.exposure.s3_public_acl_test

import data.planguard.exposure.s3_public_acl
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

acl(value) := rc("aws_s3_bucket_acl", "site", {"acl": value}, {"bucket": true})

acl_block := block("aws_s3_bucket_acl", "site", {"bucket": bucket_ref, "acl": {"constant_value": "public-read"}})

pab(flags) := rc("aws_s3_bucket_public_access_block", "site", flags, {"bucket": true})

pab_block := block("aws_s3_bucket_public_access_block", "site", {"bucket": bucket_ref})

test_public_read_acl_is_denied if {
	some r in s3_public_acl.deny with input as plan([acl("public-read")], [acl_block])
	r.address == "aws_s3_bucket_acl.site"
	contains(r.msg, "public-read")
}

test_every_public_canned_acl_is_denied if {
	every a in ["public-read", "public-read-write", "authenticated-read"] {
		count(s3_public_acl.deny) == 1 with input as plan([acl(a)], [acl_block])
	}
}

test_private_acl_passes if {
	count(s3_public_acl.deny) == 0 with input as plan([acl("private")], [acl_block])
	count(s3_public_acl.warn) == 0 with input as plan([acl("private")], [acl_block])
}

test_grant_to_all_users_is_denied if {
	after := {"access_control_policy": [{"grant": [{
		"permission": "READ",
		"grantee": [{"type": "Group", "uri": "http://acs.amazonaws.com/groups/global/AllUsers"}],
	}]}]}
	some r in s3_public_acl.deny with input as plan([rc("aws_s3_bucket_acl", "site", after, {})], [])
	contains(r.msg, "AllUsers")
}

test_grant_to_a_canonical_user_passes if {
	after := {"access_control_policy": [{"grant": [{"permission": "READ", "grantee": [{"type": "CanonicalUser", "id": "abc"}]}]}]}
	count(s3_public_acl.deny) == 0 with input as plan([rc("aws_s3_bucket_acl", "site", after, {})], [])
}

test_ignore_public_acls_on_the_linked_block_neutralises_the_acl if {
	flags := {"block_public_acls": false, "ignore_public_acls": true, "block_public_policy": false, "restrict_public_buckets": false}
	count(s3_public_acl.deny) == 0 with input as plan([acl("public-read"), pab(flags)], [acl_block, pab_block])
}

test_a_block_for_another_bucket_does_not_count if {
	flags := {"ignore_public_acls": true}
	other := block("aws_s3_bucket_public_access_block", "site", {"bucket": {"references": ["aws_s3_bucket.other.id", "aws_s3_bucket.other"]}})
	count(s3_public_acl.deny) == 1 with input as plan([acl("public-read"), pab(flags)], [acl_block, other])
}

test_account_block_neutralises_the_acl if {
	account := rc("aws_s3_account_public_access_block", "this", {"ignore_public_acls": true}, {})
	count(s3_public_acl.deny) == 0 with input as plan([acl("public-read"), account], [acl_block])
}

test_unknown_acl_warns if {
	change := rc("aws_s3_bucket_acl", "site", {}, {"acl": true})
	count(s3_public_acl.deny) == 0 with input as plan([change], [block("aws_s3_bucket_acl", "site", {"acl": {"references": ["var.acl"]}})])
	count(s3_public_acl.warn) == 1 with input as plan([change], [block("aws_s3_bucket_acl", "site", {"acl": {"references": ["var.acl"]}})])
}

test_legacy_bucket_acl_is_denied if {
	bucket := rc("aws_s3_bucket", "site", {"bucket": "site", "acl": "public-read-write"}, {})
	some r in s3_public_acl.deny with input as plan([bucket], [])
	r.address == "aws_s3_bucket.site"
	contains(r.msg, "legacy")
}

test_legacy_acl_left_unset_is_silent if {
	bucket := rc("aws_s3_bucket", "site", {"bucket": "site"}, {"acl": true, "id": true})
	count(s3_public_acl.warn) == 0 with input as plan([bucket], [block("aws_s3_bucket", "site", {"bucket": {"constant_value": "site"}})])
	count(s3_public_acl.deny) == 0 with input as plan([bucket], [block("aws_s3_bucket", "site", {"bucket": {"constant_value": "site"}})])
}

test_legacy_acl_from_an_unknown_value_warns if {
	bucket := rc("aws_s3_bucket", "site", {"bucket": "site"}, {"acl": true})
	count(s3_public_acl.warn) == 1 with input as plan([bucket], [block("aws_s3_bucket", "site", {"acl": {"references": ["var.acl"]}})])
}

test_deleted_acl_is_ignored if {
	change := {"address": "aws_s3_bucket_acl.site", "type": "aws_s3_bucket_acl", "name": "site", "mode": "managed", "change": {"actions": ["delete"], "before": {"acl": "public-read"}, "after": null}}
	count(s3_public_acl.deny) == 0 with input as plan([change], [])
}

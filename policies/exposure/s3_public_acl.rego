# METADATA
# title: S3 buckets do not grant public access through ACLs
# description: |
#   A public-read, public-read-write or authenticated-read canned ACL, or a grant to the AllUsers
#   or AuthenticatedUsers group, lets anyone (or any AWS account) list, read or write the bucket.
# custom:
#   id: aws-s3-public-acl
#   level: error
#   resource_types: [aws_s3_bucket_acl, aws_s3_bucket]
#   context_types: [aws_s3_bucket_public_access_block, aws_s3_account_public_access_block]
#   remediation: Use `acl = "private"` (or, better, `object_ownership = "BucketOwnerEnforced"` with no ACL) and grant access through a bucket policy to named principals; remove grants to the AllUsers and AuthenticatedUsers groups.
#   checkov: [CKV_AWS_20, CKV_AWS_57]
#   trivy: [AVD-AWS-0092]
package planguard.exposure.s3_public_acl

import data.planguard.exposure.helpers
import data.planguard.lib
import rego.v1

public_acls := {"public-read", "public-read-write", "authenticated-read"}

public_groups := {
	"http://acs.amazonaws.com/groups/global/AllUsers",
	"http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
}

# --- aws_s3_bucket_acl -----------------------------------------------------------------------

deny contains lib.result(rc, sprintf("%s: bucket ACL is the public canned ACL %q", [rc.address, acl])) if {
	some rc in lib.changes("aws_s3_bucket_acl")
	not planguard.unknown(rc, ["acl"])
	acl := planguard.value(rc, ["acl"], "")
	acl in public_acls
	not helpers.bucket_flag(rc, "bucket", "ignore_public_acls")
}

deny contains lib.result(rc, sprintf("%s: bucket ACL grants %s to the group %s", [rc.address, grant.permission, uri])) if {
	some rc in lib.changes("aws_s3_bucket_acl")
	some policy in planguard.value(rc, ["access_control_policy"], [])
	some grant in helpers.as_array(object.get(policy, "grant", []))
	some grantee in helpers.as_array(object.get(grant, "grantee", []))
	uri := object.get(grantee, "uri", "")
	uri in public_groups
	not helpers.bucket_flag(rc, "bucket", "ignore_public_acls")
}

warn contains lib.unknown_result(rc, "`acl`") if {
	some rc in lib.changes("aws_s3_bucket_acl")
	helpers.unknown_setting(rc, ["acl"])
}

warn contains lib.unknown_result(rc, "the grantees of `access_control_policy`") if {
	some rc in lib.changes("aws_s3_bucket_acl")
	planguard.unknown_within(rc, ["access_control_policy"])
	helpers.set_in_config(rc, ["access_control_policy"])
}

# --- legacy aws_s3_bucket arguments ----------------------------------------------------------

deny contains lib.result(rc, sprintf("%s: bucket has the public canned ACL %q (legacy `acl` argument)", [rc.address, acl])) if {
	some rc in lib.changes("aws_s3_bucket")
	not planguard.unknown(rc, ["acl"])
	acl := planguard.value(rc, ["acl"], "")
	acl in public_acls
	not helpers.own_bucket_flag(rc, "ignore_public_acls")
}

deny contains lib.result(rc, sprintf("%s: bucket grants %s to the group %s (legacy `grant` block)", [rc.address, concat(", ", grant.permissions), grant.uri])) if {
	some rc in lib.changes("aws_s3_bucket")
	some grant in planguard.value(rc, ["grant"], [])
	object.get(grant, "uri", "") in public_groups
	not helpers.own_bucket_flag(rc, "ignore_public_acls")
}

warn contains lib.unknown_result(rc, "`acl`") if {
	some rc in lib.changes("aws_s3_bucket")
	helpers.unknown_configured(rc, ["acl"])
}

# METADATA
# title: S3 bucket policies do not allow any principal
# description: |
#   A bucket policy statement that allows Principal "*" with no Condition tying it to an account,
#   organisation, source or network opens the bucket's data to everyone on the internet.
# custom:
#   id: aws-s3-public-policy
#   level: error
#   resource_types: [aws_s3_bucket_policy, aws_s3_bucket]
#   context_types: [aws_s3_bucket_public_access_block, aws_s3_account_public_access_block]
#   remediation: Name the principals that need access (accounts, roles, CloudFront origin access control via `aws:SourceArn`), or add a Condition such as `aws:PrincipalOrgID` or `aws:SourceVpce`; keep `restrict_public_buckets = true` on the bucket's public access block.
#   checkov: [CKV_AWS_70]
package planguard.exposure.s3_public_policy

import data.planguard.exposure.helpers
import data.planguard.lib
import rego.v1

# A public access block with restrict_public_buckets = true limits a public policy to AWS
# services and the bucket owner's account, so the policy is no longer public.

deny contains lib.result(rc, msg) if {
	some rc in lib.changes("aws_s3_bucket_policy")
	msg := helpers.public_policy_message(rc, "policy", "bucket policy")
	not helpers.bucket_flag(rc, "bucket", "restrict_public_buckets")
}

warn contains lib.unknown_result(rc, "`policy`") if {
	some rc in lib.changes("aws_s3_bucket_policy")
	helpers.policy_unknown(rc, "policy")
}

# The legacy inline `policy` argument of aws_s3_bucket.
deny contains lib.result(rc, msg) if {
	some rc in lib.changes("aws_s3_bucket")
	msg := helpers.public_policy_message(rc, "policy", "bucket policy (legacy `policy` argument)")
	not helpers.own_bucket_flag(rc, "restrict_public_buckets")
}

warn contains lib.unknown_result(rc, "`policy`") if {
	some rc in lib.changes("aws_s3_bucket")
	helpers.unknown_configured(rc, ["policy"])
}

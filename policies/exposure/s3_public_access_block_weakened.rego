# METADATA
# title: S3 public access blocks keep all four protections on
# description: |
#   A public access block with a flag set to false lets public ACLs or public bucket policies
#   take effect again for that bucket.
# custom:
#   id: aws-s3-public-access-block-weakened
#   level: error
#   resource_types: [aws_s3_bucket_public_access_block]
#   context_types: [aws_s3_account_public_access_block]
#   remediation: Set `block_public_acls`, `block_public_policy`, `ignore_public_acls` and `restrict_public_buckets` to true; serve public content through CloudFront with origin access control instead of opening the bucket.
#   checkov: [CKV_AWS_53, CKV_AWS_54, CKV_AWS_55, CKV_AWS_56]
#   trivy: [AVD-AWS-0086, AVD-AWS-0087, AVD-AWS-0091, AVD-AWS-0093]
package planguard.exposure.s3_public_access_block_weakened

import data.planguard.exposure.helpers
import data.planguard.lib
import rego.v1

deny contains lib.result(rc, sprintf("%s: public access block turns off %s", [rc.address, concat(", ", off)])) if {
	some rc in lib.changes("aws_s3_bucket_public_access_block")
	off := [sprintf("`%s`", [flag]) |
		some flag in helpers.pab_flags
		not planguard.unknown(rc, [flag])
		planguard.value(rc, [flag], false) != true
		not helpers.account_flag(flag)
	]
	count(off) > 0
}

warn contains lib.unknown_result(rc, sprintf("`%s`", [flag])) if {
	some rc in lib.changes("aws_s3_bucket_public_access_block")
	some flag in helpers.pab_flags
	planguard.unknown(rc, [flag])
	not helpers.account_flag(flag)
}

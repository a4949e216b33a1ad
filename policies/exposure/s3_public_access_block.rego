# METADATA
# title: S3 buckets have a public access block
# description: |
#   Without a public access block, one public ACL or bucket policy statement is enough to expose
#   the bucket. The block is the guard rail that stops such a mistake from taking effect.
# custom:
#   id: aws-s3-public-access-block
#   level: error
#   resource_types: [aws_s3_bucket]
#   context_types: [aws_s3_bucket_public_access_block, aws_s3_account_public_access_block]
#   remediation: Add an `aws_s3_bucket_public_access_block` with `bucket = aws_s3_bucket.<name>.id` and all four flags set to true, or enable all four flags account-wide with `aws_s3_account_public_access_block`.
#   checkov: [CKV2_AWS_6]
#   trivy: [AVD-AWS-0094]
package planguard.exposure.s3_public_access_block

import data.planguard.exposure.helpers
import data.planguard.lib
import rego.v1

deny contains lib.result(rc, sprintf("%s: bucket has no aws_s3_bucket_public_access_block in this configuration", [rc.address])) if {
	some rc in lib.changes("aws_s3_bucket")
	not helpers.has_block(rc)
	not helpers.account_blocks_all
}

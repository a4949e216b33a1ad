# METADATA
# title: S3 buckets declare their default encryption
# description: |
#   Since January 2023 S3 encrypts new objects with SSE-S3 even without a configuration, so a
#   bucket without one is not stored in clear. Declaring it still matters: the encryption is
#   then explicit and reviewable in code, drift is visible, and it is where SSE-KMS is chosen.
# custom:
#   id: aws-s3-bucket-encryption
#   level: warning
#   resource_types: [aws_s3_bucket]
#   context_types: [aws_s3_bucket_server_side_encryption_configuration]
#   remediation: Add an `aws_s3_bucket_server_side_encryption_configuration` with `bucket = aws_s3_bucket.<name>.id` and a `rule { apply_server_side_encryption_by_default { sse_algorithm = "aws:kms" } }` (or "AES256").
#   checkov: [CKV_AWS_19]
#   trivy: [AVD-AWS-0088]
package planguard.encryption.s3_bucket_encryption

import data.planguard.encryption.helpers
import data.planguard.lib
import rego.v1

# With the s3_require_kms option, aws-s3-bucket-kms reports these buckets as errors instead.
deny contains lib.result(rc, msg) if {
	lib.config("s3_require_kms", false) != true
	some rc in lib.changes("aws_s3_bucket")
	not helpers.has_sse_config(rc)
	not helpers.inline_sse(rc)
	msg := sprintf("%s: bucket has no aws_s3_bucket_server_side_encryption_configuration in this configuration, so it relies on S3's implicit SSE-S3 default", [rc.address])
}

# METADATA
# title: S3 buckets encrypt with KMS when KMS is required
# description: |
#   With the s3_require_kms option, a bucket without an encryption configuration gets S3's
#   implicit SSE-S3 default, not a KMS key, and so does one whose legacy inline configuration
#   uses AES256. Buckets that receive S3 server access logs are exempt (SSE-S3 only).
# custom:
#   id: aws-s3-bucket-kms
#   level: error
#   resource_types: [aws_s3_bucket]
#   context_types: [aws_s3_bucket_server_side_encryption_configuration, aws_s3_bucket_logging]
#   remediation: Add an `aws_s3_bucket_server_side_encryption_configuration` for the bucket with `sse_algorithm = "aws:kms"` and `kms_master_key_id` set to your key.
#   checkov: [CKV_AWS_145]
#   trivy: [AVD-AWS-0132]
package planguard.encryption.s3_bucket_kms

import data.planguard.encryption.helpers
import data.planguard.lib
import rego.v1

inline := ["server_side_encryption_configuration", 0]

# No encryption configuration at all: S3's implicit SSE-S3.
deny contains lib.result(rc, msg) if {
	lib.config("s3_require_kms", false) == true
	some rc in lib.changes("aws_s3_bucket")
	not helpers.log_target(rc)
	not helpers.has_sse_config(rc)
	not helpers.inline_sse(rc)
	msg := sprintf("%s: bucket has no aws_s3_bucket_server_side_encryption_configuration, so it gets SSE-S3, but s3_require_kms requires SSE-KMS (aws:kms)", [rc.address])
}

# A legacy inline configuration that is not KMS (a separate configuration resource, when there
# is one, is checked by aws-s3-sse-kms and takes precedence).
deny contains lib.result(rc, msg) if {
	lib.config("s3_require_kms", false) == true
	some rc in lib.changes("aws_s3_bucket")
	not helpers.log_target(rc)
	not helpers.has_sse_config(rc)
	helpers.inline_sse(rc)
	algorithms := helpers.non_kms_algorithms(rc, inline)
	count(algorithms) > 0
	msg := sprintf("%s: inline server_side_encryption_configuration uses %s, but s3_require_kms requires SSE-KMS (aws:kms)", [rc.address, concat(", ", sort(algorithms))])
}

warn contains lib.unknown_result(rc, "`server_side_encryption_configuration` `sse_algorithm`") if {
	lib.config("s3_require_kms", false) == true
	some rc in lib.changes("aws_s3_bucket")
	not helpers.log_target(rc)
	not helpers.has_sse_config(rc)
	helpers.inline_sse(rc)
	helpers.sse_pending(rc, inline)
}

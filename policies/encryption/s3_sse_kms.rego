# METADATA
# title: S3 encryption configurations use SSE-KMS when KMS is required
# description: |
#   With the s3_require_kms option, buckets must encrypt with a KMS key (SSE-KMS or DSSE-KMS):
#   key policies then control who can read the data, and every use of the key is logged in
#   CloudTrail. SSE-S3 (AES256) gives neither. Buckets that receive S3 server access logs are
#   exempt, as log delivery supports SSE-S3 only.
# custom:
#   id: aws-s3-sse-kms
#   level: error
#   resource_types: [aws_s3_bucket_server_side_encryption_configuration]
#   context_types: [aws_s3_bucket_logging]
#   remediation: Set `sse_algorithm = "aws:kms"` and `kms_master_key_id` to your key in `apply_server_side_encryption_by_default`, and consider `bucket_key_enabled = true` to reduce KMS costs.
#   checkov: [CKV_AWS_145]
#   trivy: [AVD-AWS-0132]
package planguard.encryption.s3_sse_kms

import data.planguard.encryption.helpers
import data.planguard.lib
import rego.v1

deny contains lib.result(rc, msg) if {
	lib.config("s3_require_kms", false) == true
	some rc in lib.changes("aws_s3_bucket_server_side_encryption_configuration")
	not helpers.sse_on_log_target(rc)
	algorithms := helpers.non_kms_algorithms(rc, [])
	count(algorithms) > 0
	msg := sprintf("%s: default encryption uses %s, but s3_require_kms requires SSE-KMS (aws:kms)", [rc.address, concat(", ", sort(algorithms))])
}

warn contains lib.unknown_result(rc, "`sse_algorithm`") if {
	lib.config("s3_require_kms", false) == true
	some rc in lib.changes("aws_s3_bucket_server_side_encryption_configuration")
	not helpers.sse_on_log_target(rc)
	helpers.sse_pending(rc, [])
}

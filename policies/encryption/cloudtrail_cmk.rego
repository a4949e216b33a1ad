# METADATA
# title: CloudTrail logs are encrypted with a customer managed KMS key
# description: |
#   Without `kms_key_id`, trail log files sit in S3 under SSE-S3, readable by anyone with read
#   access to the bucket. SSE-KMS adds a key policy as a second gate on the audit trail and logs
#   every decryption (CIS AWS Foundations Benchmark 3.5).
# custom:
#   id: aws-cloudtrail-cmk
#   level: error
#   resource_types: [aws_cloudtrail]
#   remediation: Set `kms_key_id` to the ARN of a KMS key whose key policy allows cloudtrail.amazonaws.com to encrypt with it.
#   checkov: [CKV_AWS_35]
#   trivy: [AVD-AWS-0015]
package planguard.encryption.cloudtrail_cmk

import data.planguard.encryption.helpers
import data.planguard.lib
import rego.v1

deny contains lib.result(rc, sprintf("%s: trail log files are not encrypted with a KMS key (no kms_key_id)", [rc.address])) if {
	some rc in lib.changes("aws_cloudtrail")
	not helpers.key_set(rc, ["kms_key_id"])
}

# METADATA
# title: CloudWatch log groups are encrypted with a customer managed KMS key
# description: |
#   CloudWatch Logs always encrypts log data with a key the service owns. A customer managed KMS
#   key lets a key policy decide who can read the logs, which matters when they carry personal
#   data, tokens or request bodies; the data is encrypted either way, hence a warning.
# custom:
#   id: aws-cloudwatch-log-group-cmk
#   level: warning
#   resource_types: [aws_cloudwatch_log_group]
#   remediation: Set `kms_key_id` to the ARN of a KMS key whose key policy allows the `logs.<region>.amazonaws.com` service principal to use it.
#   checkov: [CKV_AWS_158]
#   trivy: [AVD-AWS-0017]
package planguard.encryption.cloudwatch_log_group_cmk

import data.planguard.encryption.helpers
import data.planguard.lib
import rego.v1

deny contains lib.result(rc, sprintf("%s: log group is not encrypted with a customer managed KMS key (no kms_key_id)", [rc.address])) if {
	some rc in lib.changes("aws_cloudwatch_log_group")
	not helpers.key_set(rc, ["kms_key_id"])
}

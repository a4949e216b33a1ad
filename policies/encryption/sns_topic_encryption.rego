# METADATA
# title: SNS topics are encrypted at rest
# description: |
#   SNS stores messages until they are delivered, and a topic without `kms_master_key_id` keeps
#   them unencrypted: SNS has no default encryption.
# custom:
#   id: aws-sns-topic-encryption
#   level: error
#   resource_types: [aws_sns_topic]
#   remediation: Set `kms_master_key_id` to a KMS key (a customer managed key, or "alias/aws/sns" for the AWS managed one); the publishing services need kms:GenerateDataKey and kms:Decrypt on a customer managed key.
#   checkov: [CKV_AWS_26]
#   trivy: [AVD-AWS-0095]
package planguard.encryption.sns_topic_encryption

import data.planguard.encryption.helpers
import data.planguard.lib
import rego.v1

deny contains lib.result(rc, sprintf("%s: topic is not encrypted (no kms_master_key_id)", [rc.address])) if {
	some rc in lib.changes("aws_sns_topic")
	not helpers.key_set(rc, ["kms_master_key_id"])
}

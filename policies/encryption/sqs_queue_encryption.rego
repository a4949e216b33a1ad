# METADATA
# title: SQS queues are encrypted at rest
# description: |
#   Messages wait in the queue until they are consumed; without server-side encryption they are
#   stored in clear. New queues get SSE-SQS unless `sqs_managed_sse_enabled = false` turns it off
#   and no KMS key is given.
# custom:
#   id: aws-sqs-queue-encryption
#   level: error
#   resource_types: [aws_sqs_queue]
#   remediation: Remove `sqs_managed_sse_enabled = false` (SSE-SQS is the default), or set `kms_master_key_id` to a KMS key for SSE-KMS.
#   checkov: [CKV_AWS_27]
#   trivy: [AVD-AWS-0096]
package planguard.encryption.sqs_queue_encryption

import data.planguard.encryption.helpers
import data.planguard.lib
import rego.v1

managed := ["sqs_managed_sse_enabled"]

deny contains lib.result(rc, sprintf("%s: queue is not encrypted (sqs_managed_sse_enabled = false and no kms_master_key_id)", [rc.address])) if {
	some rc in lib.changes("aws_sqs_queue")
	not helpers.key_set(rc, ["kms_master_key_id"])
	helpers.known(rc, managed) == false
}

warn contains lib.unknown_result(rc, "`sqs_managed_sse_enabled`") if {
	some rc in lib.changes("aws_sqs_queue")
	not helpers.key_set(rc, ["kms_master_key_id"])
	helpers.pending(rc, managed)
}

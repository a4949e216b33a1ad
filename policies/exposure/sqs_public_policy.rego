# METADATA
# title: SQS queue policies do not allow any principal
# description: |
#   A queue policy that allows Principal "*" without a restricting Condition lets anyone send
#   messages into, read from or purge the queue.
# custom:
#   id: aws-sqs-public-policy
#   level: error
#   resource_types: [aws_sqs_queue_policy, aws_sqs_queue]
#   remediation: Name the accounts, roles or services that need the queue in `Principal`, and for service principals add `aws:SourceArn` (for example the SNS topic) or `aws:SourceAccount` in a Condition.
#   checkov: [CKV_AWS_168]
package planguard.exposure.sqs_public_policy

import data.planguard.exposure.helpers
import data.planguard.lib
import rego.v1

deny contains lib.result(rc, msg) if {
	some rc in lib.changes("aws_sqs_queue_policy")
	msg := helpers.public_policy_message(rc, "policy", "queue policy")
}

warn contains lib.unknown_result(rc, "`policy`") if {
	some rc in lib.changes("aws_sqs_queue_policy")
	helpers.policy_unknown(rc, "policy")
}

# The inline `policy` of aws_sqs_queue is optional and computed: unset, it is unknown on create
# and the queue keeps the owner-only default.
deny contains lib.result(rc, msg) if {
	some rc in lib.changes("aws_sqs_queue")
	msg := helpers.public_policy_message(rc, "policy", "queue policy")
}

warn contains lib.unknown_result(rc, "`policy`") if {
	some rc in lib.changes("aws_sqs_queue")
	helpers.unknown_configured(rc, ["policy"])
}

# METADATA
# title: SNS topic policies do not allow any principal
# description: |
#   A topic policy that allows Principal "*" without a restricting Condition lets anyone
#   publish to the topic or subscribe endpoints to it and receive its messages.
# custom:
#   id: aws-sns-public-policy
#   level: error
#   resource_types: [aws_sns_topic_policy, aws_sns_topic]
#   remediation: Name the accounts, roles or services that need the topic in `Principal`, or keep the `AWS:SourceOwner` / `aws:SourceAccount` Condition of the default policy on statements for "*".
#   checkov: [CKV_AWS_169]
package planguard.exposure.sns_public_policy

import data.planguard.exposure.helpers
import data.planguard.lib
import rego.v1

deny contains lib.result(rc, msg) if {
	some rc in lib.changes("aws_sns_topic_policy")
	msg := helpers.public_policy_message(rc, "policy", "topic policy")
}

warn contains lib.unknown_result(rc, "`policy`") if {
	some rc in lib.changes("aws_sns_topic_policy")
	helpers.policy_unknown(rc, "policy")
}

# The inline `policy` of aws_sns_topic is optional and computed: unset, it is unknown on create
# and AWS applies the owner-only default policy.
deny contains lib.result(rc, msg) if {
	some rc in lib.changes("aws_sns_topic")
	msg := helpers.public_policy_message(rc, "policy", "topic policy")
}

warn contains lib.unknown_result(rc, "`policy`") if {
	some rc in lib.changes("aws_sns_topic")
	helpers.unknown_configured(rc, ["policy"])
}

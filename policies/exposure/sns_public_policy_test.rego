package planguard.exposure.sns_public_policy_test

import data.planguard.exposure.sns_public_policy
import rego.v1

change(kind, after, unknown) := {
	"address": sprintf("%s.main", [kind]),
	"type": kind,
	"name": "main",
	"mode": "managed",
	"change": {"actions": ["create"], "after": after, "after_unknown": unknown},
}

plan(rc, expressions) := {
	"resource_changes": [rc],
	"configuration": {"root_module": {"resources": [{"address": rc.address, "mode": "managed", "type": rc.type, "name": "main", "expressions": expressions}]}},
}

doc(principal, extra) := json.marshal({"Version": "2012-10-17", "Statement": object.union({"Effect": "Allow", "Principal": principal, "Action": "SNS:Publish", "Resource": "*"}, extra)})

test_standalone_public_policy_is_denied if {
	some r in sns_public_policy.deny with input as {"resource_changes": [change("aws_sns_topic_policy", {"policy": doc("*", {})}, {})]}
	r.address == "aws_sns_topic_policy.main"
	contains(r.msg, "SNS:Publish")
}

test_inline_public_policy_is_denied if {
	some r in sns_public_policy.deny with input as {"resource_changes": [change("aws_sns_topic", {"name": "main", "policy": doc({"AWS": "*"}, {})}, {})]}
	r.address == "aws_sns_topic.main"
}

test_source_arn_condition_passes if {
	p := doc({"Service": "events.amazonaws.com"}, {})
	count(sns_public_policy.deny) == 0 with input as {"resource_changes": [change("aws_sns_topic_policy", {"policy": p}, {})]}
	p2 := doc({"AWS": "*"}, {"Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:events:eu-west-1:111122223333:rule/r"}}})
	count(sns_public_policy.deny) == 0 with input as {"resource_changes": [change("aws_sns_topic_policy", {"policy": p2}, {})]}
}

test_standalone_unknown_policy_warns if {
	count(sns_public_policy.warn) == 1 with input as {"resource_changes": [change("aws_sns_topic_policy", {}, {"policy": true})]}
}

test_inline_policy_left_unset_is_silent if {
	c := change("aws_sns_topic", {"name": "main"}, {"policy": true, "arn": true})
	count(sns_public_policy.warn) == 0 with input as plan(c, {"name": {"constant_value": "main"}})
	count(sns_public_policy.deny) == 0 with input as plan(c, {"name": {"constant_value": "main"}})
}

test_inline_policy_from_unknown_values_warns if {
	c := change("aws_sns_topic", {"name": "main"}, {"policy": true, "arn": true})
	count(sns_public_policy.warn) == 1 with input as plan(c, {"policy": {"references": ["data.aws_iam_policy_document.main.json", "data.aws_iam_policy_document.main"]}})
}

# The statement AWS itself puts in a topic's default policy.
test_default_topic_policy_passes if {
	p := doc({"AWS": "*"}, {"Sid": "__default_statement_ID", "Condition": {"StringEquals": {"AWS:SourceOwner": "111122223333"}}})
	count(sns_public_policy.deny) == 0 with input as {"resource_changes": [change("aws_sns_topic_policy", {"policy": p}, {})]}
}

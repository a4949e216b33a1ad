package planguard.exposure.ecr_public_policy_test

import data.planguard.exposure.ecr_public_policy
import rego.v1

change(after, unknown) := {
	"address": "aws_ecr_repository_policy.app",
	"type": "aws_ecr_repository_policy",
	"name": "app",
	"mode": "managed",
	"change": {"actions": ["create"], "after": after, "after_unknown": unknown},
}

pull := ["ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]

doc(principal, extra) := json.marshal({"Version": "2012-10-17", "Statement": [object.union({"Sid": "Pull", "Effect": "Allow", "Principal": principal, "Action": pull}, extra)]})

test_public_pull_is_denied if {
	some r in ecr_public_policy.deny with input as {"resource_changes": [change({"repository": "app", "policy": doc("*", {})}, {})]}
	r.address == "aws_ecr_repository_policy.app"
	contains(r.msg, "ecr:BatchGetImage, ecr:GetDownloadUrlForLayer")
}

test_aws_star_list_is_denied if {
	count(ecr_public_policy.deny) == 1 with input as {"resource_changes": [change({"policy": doc({"AWS": ["*"]}, {})}, {})]}
}

test_named_account_passes if {
	count(ecr_public_policy.deny) == 0 with input as {"resource_changes": [change({"policy": doc({"AWS": "arn:aws:iam::111122223333:root"}, {})}, {})]}
}

test_org_condition_passes if {
	p := doc("*", {"Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}})
	count(ecr_public_policy.deny) == 0 with input as {"resource_changes": [change({"policy": p}, {})]}
}

test_unknown_policy_warns if {
	count(ecr_public_policy.deny) == 0 with input as {"resource_changes": [change({"repository": "app"}, {"policy": true})]}
	count(ecr_public_policy.warn) == 1 with input as {"resource_changes": [change({"repository": "app"}, {"policy": true})]}
}

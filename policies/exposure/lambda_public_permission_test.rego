package planguard.exposure.lambda_public_permission_test

import data.planguard.exposure.lambda_public_permission as perm
import rego.v1

change(after, unknown) := {
	"address": "aws_lambda_permission.invoke",
	"type": "aws_lambda_permission",
	"name": "invoke",
	"mode": "managed",
	"change": {"actions": ["create"], "after": after, "after_unknown": unknown},
}

test_principal_star_is_denied if {
	c := change({"action": "lambda:InvokeFunctionUrl", "principal": "*", "function_url_auth_type": "NONE"}, {})
	some r in perm.deny with input as {"resource_changes": [c]}
	r.address == "aws_lambda_permission.invoke"
	contains(r.msg, "lambda:InvokeFunctionUrl")
}

test_source_arn_restricts if {
	c := change({"action": "lambda:InvokeFunction", "principal": "*", "source_arn": "arn:aws:execute-api:eu-west-1:111122223333:abc/*"}, {})
	count(perm.deny) == 0 with input as {"resource_changes": [c]}
}

test_unknown_source_arn_still_restricts if {
	c := change({"action": "lambda:InvokeFunction", "principal": "*"}, {"source_arn": true})
	count(perm.deny) == 0 with input as {"resource_changes": [c]}
	count(perm.warn) == 0 with input as {"resource_changes": [c]}
}

test_source_account_and_org_restrict if {
	count(perm.deny) == 0 with input as {"resource_changes": [change({"principal": "*", "source_account": "111122223333"}, {})]}
	count(perm.deny) == 0 with input as {"resource_changes": [change({"principal": "*", "principal_org_id": "o-abc123"}, {})]}
}

test_service_principal_passes if {
	count(perm.deny) == 0 with input as {"resource_changes": [change({"principal": "s3.amazonaws.com", "source_arn": "arn:aws:s3:::b"}, {})]}
}

test_unknown_principal_warns if {
	c := change({"action": "lambda:InvokeFunction"}, {"principal": true})
	count(perm.deny) == 0 with input as {"resource_changes": [c]}
	count(perm.warn) == 1 with input as {"resource_changes": [c]}
}

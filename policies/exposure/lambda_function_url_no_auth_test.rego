package planguard.exposure.lambda_function_url_no_auth_test

import data.planguard.exposure.lambda_function_url_no_auth
import rego.v1

change(after, unknown) := {
	"address": "aws_lambda_function_url.api",
	"type": "aws_lambda_function_url",
	"name": "api",
	"mode": "managed",
	"change": {"actions": ["create"], "after": after, "after_unknown": unknown},
}

test_no_auth_is_denied if {
	some r in lambda_function_url_no_auth.deny with input as {"resource_changes": [change({"authorization_type": "NONE"}, {"function_url": true})]}
	r.address == "aws_lambda_function_url.api"
}

test_iam_auth_passes if {
	count(lambda_function_url_no_auth.deny) == 0 with input as {"resource_changes": [change({"authorization_type": "AWS_IAM"}, {})]}
	count(lambda_function_url_no_auth.warn) == 0 with input as {"resource_changes": [change({"authorization_type": "AWS_IAM"}, {})]}
}

test_unknown_auth_warns if {
	count(lambda_function_url_no_auth.deny) == 0 with input as {"resource_changes": [change({}, {"authorization_type": true})]}
	count(lambda_function_url_no_auth.warn) == 1 with input as {"resource_changes": [change({}, {"authorization_type": true})]}
}

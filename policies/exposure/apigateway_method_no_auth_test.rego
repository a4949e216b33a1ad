package planguard.exposure.apigateway_method_no_auth_test

import data.planguard.exposure.apigateway_method_no_auth as apigw
import rego.v1

change(after, unknown) := {
	"address": "aws_api_gateway_method.items",
	"type": "aws_api_gateway_method",
	"name": "items",
	"mode": "managed",
	"change": {"actions": ["create"], "after": after, "after_unknown": unknown},
}

method(http_method, authorization) := change({"http_method": http_method, "authorization": authorization, "api_key_required": false}, {"id": true, "rest_api_id": true})

test_no_authorization_is_denied if {
	some r in apigw.deny with input as {"resource_changes": [method("GET", "NONE")]}
	r.address == "aws_api_gateway_method.items"
	contains(r.msg, "GET method")
}

test_options_preflight_is_exempt if {
	count(apigw.deny) == 0 with input as {"resource_changes": [method("OPTIONS", "NONE")]}
}

test_authorizers_pass if {
	every auth in ["AWS_IAM", "COGNITO_USER_POOLS", "CUSTOM"] {
		count(apigw.deny) == 0 with input as {"resource_changes": [method("POST", auth)]}
	}
}

test_api_key_passes if {
	c := change({"http_method": "GET", "authorization": "NONE", "api_key_required": true}, {})
	count(apigw.deny) == 0 with input as {"resource_changes": [c]}
}

test_unknown_authorization_warns if {
	c := change({"http_method": "GET", "api_key_required": false}, {"authorization": true})
	count(apigw.deny) == 0 with input as {"resource_changes": [c]}
	count(apigw.warn) == 1 with input as {"resource_changes": [c]}
}

test_unknown_method_warns if {
	c := change({"authorization": "NONE", "api_key_required": false}, {"http_method": true})
	count(apigw.deny) == 0 with input as {"resource_changes": [c]}
	count(apigw.warn) == 1 with input as {"resource_changes": [c]}
}

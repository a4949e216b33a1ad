# METADATA
# title: Lambda function URLs require authentication
# description: |
#   A function URL with authorization_type NONE is an unauthenticated HTTPS endpoint: anyone who
#   finds the URL can invoke the function and run up its cost.
# custom:
#   id: aws-lambda-function-url-no-auth
#   level: error
#   resource_types: [aws_lambda_function_url]
#   remediation: Set `authorization_type = "AWS_IAM"` and sign requests with SigV4 (CloudFront origin access control can sign for browsers), or put the function behind API Gateway with an authorizer.
#   checkov: [CKV_AWS_258]
package planguard.exposure.lambda_function_url_no_auth

import data.planguard.exposure.helpers
import data.planguard.lib
import rego.v1

deny contains lib.result(rc, sprintf("%s: function URL has no authentication (authorization_type = \"NONE\")", [rc.address])) if {
	some rc in lib.changes("aws_lambda_function_url")
	not planguard.unknown(rc, ["authorization_type"])
	upper(planguard.value(rc, ["authorization_type"], "")) == "NONE"
}

warn contains lib.unknown_result(rc, "`authorization_type`") if {
	some rc in lib.changes("aws_lambda_function_url")
	helpers.unknown_setting(rc, ["authorization_type"])
}

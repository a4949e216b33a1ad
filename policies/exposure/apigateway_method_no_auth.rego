# METADATA
# title: API Gateway methods require authorization
# description: |
#   A REST API method with authorization NONE and no API key lets anyone on the internet call
#   the backend behind it. CORS preflight (OPTIONS) methods are exempt.
# custom:
#   id: aws-apigateway-method-no-auth
#   level: error
#   resource_types: [aws_api_gateway_method]
#   remediation: Set `authorization` to "AWS_IAM", "COGNITO_USER_POOLS" or "CUSTOM" (with `authorizer_id`), or at least `api_key_required = true` for a usage-plan protected API.
#   checkov: [CKV_AWS_59, CKV2_AWS_70]
#   trivy: [AVD-AWS-0004]
package planguard.exposure.apigateway_method_no_auth

import data.planguard.exposure.helpers
import data.planguard.lib
import rego.v1

deny contains lib.result(rc, sprintf("%s: %s method has no authorization (authorization = \"NONE\") and no API key", [rc.address, planguard.value(rc, ["http_method"], "")])) if {
	some rc in lib.changes("aws_api_gateway_method")
	no_authorization(rc)
	not planguard.unknown(rc, ["http_method"])
	not preflight(rc)
	not planguard.unknown(rc, ["api_key_required"])
	not api_key(rc)
}

no_authorization(rc) if {
	not planguard.unknown(rc, ["authorization"])
	upper(planguard.value(rc, ["authorization"], "")) == "NONE"
}

preflight(rc) if upper(planguard.value(rc, ["http_method"], "")) == "OPTIONS"

api_key(rc) if planguard.value(rc, ["api_key_required"], false) == true

warn contains lib.unknown_result(rc, "`authorization`") if {
	some rc in lib.changes("aws_api_gateway_method")
	helpers.unknown_setting(rc, ["authorization"])
	not api_key(rc)
}

warn contains lib.unknown_result(rc, "`http_method`") if {
	some rc in lib.changes("aws_api_gateway_method")
	no_authorization(rc)
	helpers.unknown_setting(rc, ["http_method"])
	not api_key(rc)
}

warn contains lib.unknown_result(rc, "`api_key_required`") if {
	some rc in lib.changes("aws_api_gateway_method")
	no_authorization(rc)
	not planguard.unknown(rc, ["http_method"])
	not preflight(rc)
	helpers.unknown_setting(rc, ["api_key_required"])
}

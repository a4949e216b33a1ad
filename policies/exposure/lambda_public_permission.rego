# METADATA
# title: Lambda permissions do not let anyone invoke a function
# description: |
#   A Lambda permission for principal "*" with no source ARN, source account or organisation
#   lets any AWS account, or anyone at all through a function URL, invoke the function.
# custom:
#   id: aws-lambda-public-permission
#   level: error
#   resource_types: [aws_lambda_permission]
#   remediation: Set `principal` to the calling service or account, and add `source_arn` (or `source_account`, or `principal_org_id`) so only your resources can invoke the function.
#   checkov: [CKV_AWS_301]
package planguard.exposure.lambda_public_permission

import data.planguard.exposure.helpers
import data.planguard.lib
import rego.v1

restrictions := ["source_arn", "source_account", "principal_org_id"]

deny contains lib.result(rc, sprintf("%s: permission lets any principal (\"*\") call %s with no source_arn, source_account or principal_org_id", [rc.address, planguard.value(rc, ["action"], "the function")])) if {
	some rc in lib.changes("aws_lambda_permission")
	not planguard.unknown(rc, ["principal"])
	planguard.value(rc, ["principal"], "") == "*"
	not restricted(rc)
}

# An unknown source ARN or account is still a restriction.
restricted(rc) if {
	some attr in restrictions
	planguard.unknown(rc, [attr])
}

restricted(rc) if {
	some attr in restrictions
	planguard.value(rc, [attr], "") != ""
}

warn contains lib.unknown_result(rc, "`principal`") if {
	some rc in lib.changes("aws_lambda_permission")
	helpers.unknown_setting(rc, ["principal"])
	not restricted(rc)
}

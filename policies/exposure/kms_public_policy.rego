# METADATA
# title: KMS key policies do not allow any principal
# description: |
#   A key policy that allows Principal "*" without a restricting Condition lets any AWS account
#   use (or manage) the key, and so decrypt everything encrypted with it.
# custom:
#   id: aws-kms-public-policy
#   level: error
#   resource_types: [aws_kms_key]
#   remediation: Grant the key to named principals (the account root, specific roles), or keep "*" only with a Condition such as `kms:CallerAccount` plus `kms:ViaService`, or `aws:PrincipalOrgID`.
#   checkov: [CKV_AWS_33]
package planguard.exposure.kms_public_policy

import data.planguard.exposure.helpers
import data.planguard.lib
import rego.v1

deny contains lib.result(rc, msg) if {
	some rc in lib.changes("aws_kms_key")
	msg := helpers.public_policy_message(rc, "policy", "key policy")
}

# `policy` is optional and computed: unset, it is unknown on create and AWS applies the
# default key policy, which trusts only the owning account.
warn contains lib.unknown_result(rc, "`policy`") if {
	some rc in lib.changes("aws_kms_key")
	helpers.unknown_configured(rc, ["policy"])
}

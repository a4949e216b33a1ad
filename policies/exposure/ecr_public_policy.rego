# METADATA
# title: ECR repository policies do not allow any principal
# description: |
#   A repository policy that allows Principal "*" without a restricting Condition lets anyone
#   pull your images (and the secrets baked into them) or, with push actions, replace them.
# custom:
#   id: aws-ecr-public-policy
#   level: error
#   resource_types: [aws_ecr_repository_policy]
#   remediation: Name the accounts or roles that may pull in `Principal`, or add a Condition such as `aws:PrincipalOrgID`; use ECR Public for images meant to be public.
#   checkov: [CKV_AWS_32]
#   trivy: [AVD-AWS-0032]
package planguard.exposure.ecr_public_policy

import data.planguard.exposure.helpers
import data.planguard.lib
import rego.v1

deny contains lib.result(rc, msg) if {
	some rc in lib.changes("aws_ecr_repository_policy")
	msg := helpers.public_policy_message(rc, "policy", "repository policy")
}

warn contains lib.unknown_result(rc, "`policy`") if {
	some rc in lib.changes("aws_ecr_repository_policy")
	helpers.policy_unknown(rc, "policy")
}

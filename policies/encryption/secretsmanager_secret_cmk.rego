# METADATA
# title: Secrets Manager secrets are encrypted with a customer managed KMS key
# description: |
#   Without `kms_key_id` a secret is encrypted with the AWS managed key aws/secretsmanager, whose
#   key policy you cannot change and which cannot be used from other accounts. The secret is
#   encrypted either way, hence a warning.
# custom:
#   id: aws-secretsmanager-secret-cmk
#   level: warning
#   resource_types: [aws_secretsmanager_secret]
#   remediation: Set `kms_key_id` to a customer managed KMS key (not "alias/aws/secretsmanager").
#   checkov: [CKV_AWS_149]
#   trivy: [AVD-AWS-0098]
package planguard.encryption.secretsmanager_secret_cmk

import data.planguard.encryption.helpers
import data.planguard.lib
import rego.v1

key := ["kms_key_id"]

deny contains lib.result(rc, sprintf("%s: secret is encrypted with the AWS managed key aws/secretsmanager, not a customer managed KMS key (no kms_key_id)", [rc.address])) if {
	some rc in lib.changes("aws_secretsmanager_secret")
	not helpers.key_set(rc, key)
}

deny contains lib.result(rc, sprintf("%s: secret names the AWS managed key (kms_key_id = \"%s\"), not a customer managed KMS key", [rc.address, helpers.known(rc, key)])) if {
	some rc in lib.changes("aws_secretsmanager_secret")
	helpers.aws_managed_alias(rc, key)
}

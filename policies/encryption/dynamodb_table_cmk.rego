# METADATA
# title: DynamoDB tables are encrypted with a customer managed KMS key
# description: |
#   DynamoDB always encrypts tables, by default with an AWS owned key that you cannot see, audit
#   or revoke (or, with SSE enabled but no key given, the AWS managed aws/dynamodb key, whose
#   policy you cannot change). A customer managed key adds key policies, CloudTrail-logged use and
#   crypto-shredding. The data is encrypted either way, hence a warning.
# custom:
#   id: aws-dynamodb-table-cmk
#   level: warning
#   resource_types: [aws_dynamodb_table]
#   remediation: Add `server_side_encryption { enabled = true, kms_key_arn = aws_kms_key.<name>.arn }` to the table.
#   checkov: [CKV_AWS_119]
#   trivy: [AVD-AWS-0025]
package planguard.encryption.dynamodb_table_cmk

import data.planguard.encryption.helpers
import data.planguard.lib
import rego.v1

enabled := ["server_side_encryption", 0, "enabled"]

key := ["server_side_encryption", 0, "kms_key_arn"]

deny contains lib.result(rc, sprintf("%s: table is encrypted with an AWS owned key, not a customer managed KMS key (server_side_encryption is not enabled)", [rc.address])) if {
	some rc in lib.changes("aws_dynamodb_table")
	helpers.setting(rc, enabled, false) == false
}

# SSE enabled without a key of its own: the AWS managed key. The provider fills in the key's ARN
# (unknown on create, known on update), so only the configuration tells whether one was given.
deny contains lib.result(rc, sprintf("%s: table is encrypted with the AWS managed key aws/dynamodb, not a customer managed KMS key (server_side_encryption sets no kms_key_arn)", [rc.address])) if {
	some rc in lib.changes("aws_dynamodb_table")
	helpers.setting(rc, enabled, false) == true
	aws_managed_key(rc)
}

warn contains lib.unknown_result(rc, "`server_side_encryption.enabled`") if {
	some rc in lib.changes("aws_dynamodb_table")
	helpers.pending(rc, enabled)
}

aws_managed_key(rc) if helpers.unset_in_config(rc, key)

aws_managed_key(rc) if {
	not lib.config_block(rc)
	not helpers.key_set(rc, key)
}

aws_managed_key(rc) if helpers.aws_managed_alias(rc, key)

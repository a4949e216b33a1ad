# METADATA
# title: Backup vaults are encrypted with a customer managed KMS key
# description: |
#   Without `kms_key_arn` a vault encrypts recovery points with the AWS managed key aws/backup,
#   whose key policy you cannot restrict and which cannot be shared for cross-account copies.
#   The backups are encrypted either way, hence a warning; the key cannot be changed later.
# custom:
#   id: aws-backup-vault-cmk
#   level: warning
#   resource_types: [aws_backup_vault]
#   remediation: Set `kms_key_arn` to a customer managed KMS key when creating the vault.
#   checkov: [CKV_AWS_166]
package planguard.encryption.backup_vault_cmk

import data.planguard.encryption.helpers
import data.planguard.lib
import rego.v1

key := ["kms_key_arn"]

# The provider fills in the AWS managed key's ARN when none is given (unknown on create, known
# on update), so the configuration tells whether one was given.
deny contains lib.result(rc, sprintf("%s: vault encrypts with the AWS managed key aws/backup, not a customer managed KMS key (no kms_key_arn)", [rc.address])) if {
	some rc in lib.changes("aws_backup_vault")
	aws_managed_key(rc)
}

aws_managed_key(rc) if helpers.unset_in_config(rc, key)

aws_managed_key(rc) if {
	not lib.config_block(rc)
	not helpers.key_set(rc, key)
}

aws_managed_key(rc) if helpers.aws_managed_alias(rc, key)

package planguard.encryption.secretsmanager_secret_cmk_test

import data.planguard.encryption.secretsmanager_secret_cmk
import rego.v1

plan(after, unknown) := {"resource_changes": [{
	"address": "aws_secretsmanager_secret.db", "type": "aws_secretsmanager_secret", "name": "db", "mode": "managed",
	"change": {"actions": ["create"], "after": object.union({"name": "prod/db"}, after), "after_unknown": unknown},
}]}

test_secret_without_key_is_reported if {
	some r in secretsmanager_secret_cmk.deny with input as plan({"kms_key_id": null}, {"arn": true})
	r.address == "aws_secretsmanager_secret.db"
	contains(r.msg, "AWS managed key aws/secretsmanager")
}

test_explicit_aws_managed_alias_is_reported if {
	some r in secretsmanager_secret_cmk.deny with input as plan({"kms_key_id": "alias/aws/secretsmanager"}, {})
	contains(r.msg, "names the AWS managed key")
}

test_customer_managed_key_passes if {
	count(secretsmanager_secret_cmk.deny) == 0 with input as plan({"kms_key_id": "alias/prod-secrets"}, {})
	count(secretsmanager_secret_cmk.deny) == 0 with input as plan({}, {"kms_key_id": true})
}

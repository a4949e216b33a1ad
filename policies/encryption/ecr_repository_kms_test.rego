package planguard.encryption.ecr_repository_kms_test

import data.planguard.encryption.ecr_repository_kms
import rego.v1

plan(after, unknown, expressions) := {
	"resource_changes": [{
		"address": "aws_ecr_repository.app", "type": "aws_ecr_repository", "name": "app", "mode": "managed",
		"change": {"actions": ["create"], "after": object.union({"name": "app"}, after), "after_unknown": unknown},
	}],
	"configuration": {"root_module": {"resources": [{
		"address": "aws_ecr_repository.app", "mode": "managed", "type": "aws_ecr_repository", "name": "app",
		"provider_config_key": "aws", "expressions": object.union({"name": {"constant_value": "app"}}, expressions),
	}]}},
}

test_kms_repository_passes if {
	p := plan({"encryption_configuration": [{"encryption_type": "KMS"}]}, {"encryption_configuration": [{"kms_key": true}]}, {"encryption_configuration": [{"encryption_type": {"constant_value": "KMS"}, "kms_key": {"references": ["aws_kms_key.main.arn", "aws_kms_key.main"]}}]})
	count(ecr_repository_kms.deny) == 0 with input as p
	count(ecr_repository_kms.warn) == 0 with input as p
}

test_repository_without_configuration_is_reported if {
	some r in ecr_repository_kms.deny with input as plan({"encryption_configuration": []}, {}, {})
	r.address == "aws_ecr_repository.app"
	contains(r.msg, "encryption_type = \"AES256\" (not set, so the default applies)")
}

test_explicit_aes256_is_reported if {
	count(ecr_repository_kms.deny) == 1 with input as plan({"encryption_configuration": [{"encryption_type": "AES256", "kms_key": ""}]}, {}, {"encryption_configuration": [{"encryption_type": {"constant_value": "AES256"}}]})
}

test_unknown_type_warns if {
	p := plan({"encryption_configuration": [{}]}, {"encryption_configuration": [{"encryption_type": true, "kms_key": true}]}, {"encryption_configuration": [{"encryption_type": {"references": ["var.encryption_type"]}}]})
	count(ecr_repository_kms.deny) == 0 with input as p
	count(ecr_repository_kms.warn) == 1 with input as p
}

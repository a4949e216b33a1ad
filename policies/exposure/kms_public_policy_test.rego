package planguard.exposure.kms_public_policy_test

import data.planguard.exposure.kms_public_policy
import rego.v1

change(after, unknown) := {
	"address": "aws_kms_key.main",
	"type": "aws_kms_key",
	"name": "main",
	"mode": "managed",
	"change": {"actions": ["create"], "after": after, "after_unknown": unknown},
}

plan(rc, expressions) := {
	"resource_changes": [rc],
	"configuration": {"root_module": {"resources": [{"address": "aws_kms_key.main", "mode": "managed", "type": "aws_kms_key", "name": "main", "expressions": expressions}]}},
}

root := {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}

doc(statements) := json.marshal({"Version": "2012-10-17", "Statement": statements})

test_public_key_policy_is_denied if {
	use := {"Effect": "Allow", "Principal": "*", "Action": ["kms:Decrypt", "kms:Encrypt"], "Resource": "*"}
	some r in kms_public_policy.deny with input as {"resource_changes": [change({"policy": doc([root, use])}, {})]}
	r.address == "aws_kms_key.main"
	contains(r.msg, "kms:Decrypt, kms:Encrypt")
}

test_caller_account_condition_passes if {
	use := {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*", "Condition": {
		"StringEquals": {"kms:CallerAccount": "111122223333", "kms:ViaService": "s3.eu-west-1.amazonaws.com"},
	}}
	count(kms_public_policy.deny) == 0 with input as {"resource_changes": [change({"policy": doc([root, use])}, {})]}
}

test_named_principals_pass if {
	count(kms_public_policy.deny) == 0 with input as {"resource_changes": [change({"policy": doc([root])}, {})]}
}

test_default_policy_left_unset_is_silent if {
	c := change({"description": "main"}, {"policy": true, "arn": true})
	count(kms_public_policy.warn) == 0 with input as plan(c, {"description": {"constant_value": "main"}})
}

test_policy_from_unknown_values_warns if {
	c := change({"description": "main"}, {"policy": true})
	count(kms_public_policy.warn) == 1 with input as plan(c, {"policy": {"references": ["data.aws_iam_policy_document.key.json", "data.aws_iam_policy_document.key"]}})
}

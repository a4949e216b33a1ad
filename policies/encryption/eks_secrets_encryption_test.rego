package planguard.encryption.eks_secrets_encryption_test

import data.planguard.encryption.eks_secrets_encryption
import rego.v1

plan(after, unknown) := {"resource_changes": [{
	"address": "aws_eks_cluster.main", "type": "aws_eks_cluster", "name": "main", "mode": "managed",
	"change": {"actions": ["create"], "after": object.union({"name": "main", "version": "1.30"}, after), "after_unknown": unknown},
}]}

test_secrets_encryption_passes if {
	p := plan({"encryption_config": [{"provider": [{}], "resources": ["secrets"]}]}, {"encryption_config": [{"provider": [{"key_arn": true}], "resources": [false]}]})
	count(eks_secrets_encryption.deny) == 0 with input as p
	count(eks_secrets_encryption.warn) == 0 with input as p
}

test_cluster_without_encryption_config_is_denied if {
	some r in eks_secrets_encryption.deny with input as plan({"encryption_config": []}, {})
	r.address == "aws_eks_cluster.main"
	contains(r.msg, "no encryption_config")
}

test_encryption_config_without_secrets_is_denied if {
	some r in eks_secrets_encryption.deny with input as plan({"encryption_config": [{"provider": [{"key_arn": "arn:aws:kms:eu-west-1:111122223333:key/k"}], "resources": []}]}, {})
	contains(r.msg, "does not cover \"secrets\"")
}

test_unknown_resources_warns if {
	p := plan({"encryption_config": [{"provider": [{}]}]}, {"encryption_config": [{"provider": [{"key_arn": true}], "resources": true}]})
	count(eks_secrets_encryption.deny) == 0 with input as p
	count(eks_secrets_encryption.warn) == 1 with input as p
}

package planguard.encryption.neptune_cluster_encryption_test

import data.planguard.encryption.neptune_cluster_encryption
import rego.v1

plan(after, expressions) := {
	"resource_changes": [{
		"address": "aws_neptune_cluster.graph", "type": "aws_neptune_cluster", "name": "graph", "mode": "managed",
		"change": {"actions": ["create"], "after": object.union({"engine": "neptune", "storage_encrypted": false}, after), "after_unknown": {}},
	}],
	"configuration": {"root_module": {"resources": [{
		"address": "aws_neptune_cluster.graph", "mode": "managed", "type": "aws_neptune_cluster", "name": "graph",
		"provider_config_key": "aws", "expressions": expressions,
	}]}},
}

test_encrypted_cluster_passes if {
	count(neptune_cluster_encryption.deny) == 0 with input as plan({"storage_encrypted": true}, {"storage_encrypted": {"constant_value": true}})
}

test_unencrypted_cluster_is_denied if {
	some r in neptune_cluster_encryption.deny with input as plan({}, {"storage_encrypted": {"constant_value": false}})
	r.msg == "aws_neptune_cluster.graph: Neptune cluster storage is not encrypted (storage_encrypted = false)"
}

test_provider_default_false_is_denied_and_says_so if {
	some r in neptune_cluster_encryption.deny with input as plan({}, {"engine": {"constant_value": "neptune"}})
	contains(r.msg, "not set, so the default applies")
}

test_replica_takes_the_source_encryption if {
	p := plan({"replication_source_identifier": "arn:aws:rds:eu-west-1:111122223333:cluster:graph"}, {"replication_source_identifier": {"constant_value": "arn:aws:rds:eu-west-1:111122223333:cluster:graph"}})
	count(neptune_cluster_encryption.deny) == 0 with input as p
}

test_unknown_warns if {
	p := object.union(plan({}, {"storage_encrypted": {"references": ["var.encrypted"]}}), {"resource_changes": [{
		"address": "aws_neptune_cluster.graph", "type": "aws_neptune_cluster", "name": "graph", "mode": "managed",
		"change": {"actions": ["create"], "after": {"engine": "neptune"}, "after_unknown": {"storage_encrypted": true}},
	}]})
	count(neptune_cluster_encryption.deny) == 0 with input as p
	count(neptune_cluster_encryption.warn) == 1 with input as p
}

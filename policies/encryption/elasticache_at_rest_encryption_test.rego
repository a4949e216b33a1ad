package planguard.encryption.elasticache_at_rest_encryption_test

import data.planguard.encryption.elasticache_at_rest_encryption
import rego.v1

plan(after, unknown, expressions) := {
	"resource_changes": [{
		"address": "aws_elasticache_replication_group.cache", "type": "aws_elasticache_replication_group", "name": "cache", "mode": "managed",
		"change": {"actions": ["create"], "after": object.union({"replication_group_id": "cache", "engine": "redis"}, after), "after_unknown": unknown},
	}],
	"configuration": {"root_module": {"resources": [{
		"address": "aws_elasticache_replication_group.cache", "mode": "managed", "type": "aws_elasticache_replication_group", "name": "cache",
		"provider_config_key": "aws", "expressions": object.union({"replication_group_id": {"constant_value": "cache"}}, expressions),
	}]}},
}

test_encrypted_group_passes if {
	p := plan({"at_rest_encryption_enabled": true}, {}, {"at_rest_encryption_enabled": {"constant_value": true}})
	count(elasticache_at_rest_encryption.deny) == 0 with input as p
	count(elasticache_at_rest_encryption.warn) == 0 with input as p
}

test_unencrypted_group_is_denied if {
	some r in elasticache_at_rest_encryption.deny with input as plan({"at_rest_encryption_enabled": false}, {}, {"at_rest_encryption_enabled": {"constant_value": false}})
	r.address == "aws_elasticache_replication_group.cache"
}

test_unset_redis_is_denied if {
	some r in elasticache_at_rest_encryption.deny with input as plan({}, {"at_rest_encryption_enabled": true}, {})
	contains(r.msg, "not set, so the default applies")
}

test_unset_valkey_is_encrypted_by_default if {
	count(elasticache_at_rest_encryption.deny) == 0 with input as plan({"engine": "valkey"}, {"at_rest_encryption_enabled": true}, {"engine": {"constant_value": "valkey"}})
}

test_unknown_warns if {
	p := plan({}, {"at_rest_encryption_enabled": true}, {"at_rest_encryption_enabled": {"references": ["var.encrypt"]}})
	count(elasticache_at_rest_encryption.deny) == 0 with input as p
	count(elasticache_at_rest_encryption.warn) == 1 with input as p
}

test_global_datastore_secondary_is_skipped if {
	p := plan({"global_replication_group_id": "ldgnf-cache"}, {"at_rest_encryption_enabled": true}, {"global_replication_group_id": {"references": ["aws_elasticache_global_replication_group.cache.global_replication_group_id", "aws_elasticache_global_replication_group.cache"]}})
	count(elasticache_at_rest_encryption.deny) == 0 with input as p
}

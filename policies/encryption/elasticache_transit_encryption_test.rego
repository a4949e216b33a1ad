package planguard.encryption.elasticache_transit_encryption_test

import data.planguard.encryption.elasticache_transit_encryption
import rego.v1

plan(after, unknown, expressions) := {
	"resource_changes": [{
		"address": "aws_elasticache_replication_group.cache", "type": "aws_elasticache_replication_group", "name": "cache", "mode": "managed",
		"change": {"actions": ["create"], "after": object.union({"replication_group_id": "cache", "engine": "redis"}, after), "after_unknown": unknown},
	}],
	"configuration": {"root_module": {"resources": [{
		"address": "aws_elasticache_replication_group.cache", "mode": "managed", "type": "aws_elasticache_replication_group", "name": "cache",
		"provider_config_key": "aws", "expressions": expressions,
	}]}},
}

test_transit_encryption_passes if {
	p := plan({"transit_encryption_enabled": true}, {}, {"transit_encryption_enabled": {"constant_value": true}})
	count(elasticache_transit_encryption.deny) == 0 with input as p
	count(elasticache_transit_encryption.warn) == 0 with input as p
}

test_disabled_is_denied if {
	some r in elasticache_transit_encryption.deny with input as plan({"transit_encryption_enabled": false}, {}, {"transit_encryption_enabled": {"constant_value": false}})
	r.address == "aws_elasticache_replication_group.cache"
	r.msg == "aws_elasticache_replication_group.cache: replication group does not encrypt traffic in transit (transit_encryption_enabled = false)"
}

test_unset_is_denied if {
	some r in elasticache_transit_encryption.deny with input as plan({}, {"transit_encryption_enabled": true}, {})
	contains(r.msg, "not set, so the default applies")
}

test_unknown_warns if {
	p := plan({}, {"transit_encryption_enabled": true}, {"transit_encryption_enabled": {"references": ["var.tls"]}})
	count(elasticache_transit_encryption.deny) == 0 with input as p
	count(elasticache_transit_encryption.warn) == 1 with input as p
}

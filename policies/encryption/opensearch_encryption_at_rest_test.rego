package planguard.encryption.opensearch_encryption_at_rest_test

import data.planguard.encryption.opensearch_encryption_at_rest
import rego.v1

plan(type, after, unknown, expressions) := {
	"resource_changes": [{
		"address": sprintf("%s.search", [type]), "type": type, "name": "search", "mode": "managed",
		"change": {"actions": ["create"], "after": object.union({"domain_name": "search"}, after), "after_unknown": unknown},
	}],
	"configuration": {"root_module": {"resources": [{
		"address": sprintf("%s.search", [type]), "mode": "managed", "type": type, "name": "search",
		"provider_config_key": "aws", "expressions": object.union({"domain_name": {"constant_value": "search"}}, expressions),
	}]}},
}

test_enabled_passes if {
	p := plan("aws_opensearch_domain", {"encrypt_at_rest": [{"enabled": true}]}, {}, {"encrypt_at_rest": [{"enabled": {"constant_value": true}}]})
	count(opensearch_encryption_at_rest.deny) == 0 with input as p
	count(opensearch_encryption_at_rest.warn) == 0 with input as p
}

test_disabled_is_denied if {
	p := plan("aws_opensearch_domain", {"encrypt_at_rest": [{"enabled": false}]}, {}, {"encrypt_at_rest": [{"enabled": {"constant_value": false}}]})
	some r in opensearch_encryption_at_rest.deny with input as p
	r.address == "aws_opensearch_domain.search"
	contains(r.msg, "encrypt_at_rest.enabled = false)")
}

test_missing_block_is_denied_for_elasticsearch_too if {
	p := plan("aws_elasticsearch_domain", {}, {"encrypt_at_rest": true}, {})
	some r in opensearch_encryption_at_rest.deny with input as p
	r.address == "aws_elasticsearch_domain.search"
	contains(r.msg, "not set, so the default applies")
	count(opensearch_encryption_at_rest.warn) == 0 with input as p
}

test_unknown_warns if {
	p := plan("aws_opensearch_domain", {"encrypt_at_rest": [{}]}, {"encrypt_at_rest": [{"enabled": true}]}, {"encrypt_at_rest": [{"enabled": {"references": ["var.encrypt"]}}]})
	count(opensearch_encryption_at_rest.deny) == 0 with input as p
	count(opensearch_encryption_at_rest.warn) == 1 with input as p
}

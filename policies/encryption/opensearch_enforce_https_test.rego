package planguard.encryption.opensearch_enforce_https_test

import data.planguard.encryption.opensearch_enforce_https
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

test_enforced_https_passes if {
	p := plan("aws_opensearch_domain", {"domain_endpoint_options": [{"enforce_https": true}]}, {}, {"domain_endpoint_options": [{"enforce_https": {"constant_value": true}}]})
	count(opensearch_enforce_https.deny) == 0 with input as p
	count(opensearch_enforce_https.warn) == 0 with input as p
}

test_block_without_enforce_https_gets_the_provider_default if {
	p := plan("aws_opensearch_domain", {"domain_endpoint_options": [{"tls_security_policy": "Policy-Min-TLS-1-2-2019-07"}]}, {"domain_endpoint_options": [{"enforce_https": true}]}, {"domain_endpoint_options": [{"tls_security_policy": {"constant_value": "Policy-Min-TLS-1-2-2019-07"}}]})
	count(opensearch_enforce_https.deny) == 0 with input as p
	count(opensearch_enforce_https.warn) == 0 with input as p
}

test_https_not_enforced_is_denied if {
	p := plan("aws_opensearch_domain", {"domain_endpoint_options": [{"enforce_https": false}]}, {}, {"domain_endpoint_options": [{"enforce_https": {"constant_value": false}}]})
	some r in opensearch_enforce_https.deny with input as p
	contains(r.msg, "enforce_https = false)")
}

test_missing_block_is_denied if {
	p := plan("aws_elasticsearch_domain", {}, {"domain_endpoint_options": true}, {})
	some r in opensearch_enforce_https.deny with input as p
	r.address == "aws_elasticsearch_domain.search"
	contains(r.msg, "not set, so the default applies")
}

test_unknown_warns if {
	p := plan("aws_opensearch_domain", {"domain_endpoint_options": [{}]}, {"domain_endpoint_options": [{"enforce_https": true}]}, {"domain_endpoint_options": [{"enforce_https": {"references": ["var.https"]}}]})
	count(opensearch_enforce_https.deny) == 0 with input as p
	count(opensearch_enforce_https.warn) == 1 with input as p
}

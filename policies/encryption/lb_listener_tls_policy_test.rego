package planguard.encryption.lb_listener_tls_policy_test

import data.planguard.encryption.lb_listener_tls_policy as policy
import rego.v1

# A listener change and, when `config` is not null, its configuration block's expressions.
listener(after, unknown, config) := {
	"resource_changes": [{
		"address": "aws_lb_listener.https",
		"type": "aws_lb_listener",
		"name": "https",
		"mode": "managed",
		"change": {"actions": ["create"], "before": null, "after": after, "after_unknown": unknown},
	}],
	"configuration": {"root_module": {"resources": [block |
		config != null
		block := {"address": "aws_lb_listener.https", "mode": "managed", "type": "aws_lb_listener", "name": "https", "provider_config_key": "aws", "expressions": config}
	]}},
}

https(name) := {"protocol": "HTTPS", "port": 443, "ssl_policy": name}

test_modern_policies_pass if {
	every name in [
		"ELBSecurityPolicy-TLS13-1-2-2021-06",
		"ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
		"ELBSecurityPolicy-TLS13-1-3-2021-06",
		"ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
		"ELBSecurityPolicy-TLS-1-2-2017-01",
		"ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
		"ELBSecurityPolicy-FS-1-2-2019-08",
		"ELBSecurityPolicy-FS-1-2-Res-2020-10",
	] {
		count(policy.deny) == 0 with input as listener(https(name), {}, null)
	}
}

test_old_policies_are_denied if {
	every name in [
		"ELBSecurityPolicy-2016-08",
		"ELBSecurityPolicy-2015-05",
		"ELBSecurityPolicy-TLS-1-0-2015-04",
		"ELBSecurityPolicy-TLS-1-1-2017-01",
		"ELBSecurityPolicy-FS-2018-06",
		"ELBSecurityPolicy-FS-1-1-2019-08",
		"ELBSecurityPolicy-TLS13-1-0-2021-06",
		"ELBSecurityPolicy-TLS13-1-1-2021-06",
	] {
		some r in policy.deny with input as listener(https(name), {}, null)
		contains(r.msg, "allows TLS 1.0/1.1")
	}
}

test_unrecognised_policy_is_denied_with_its_own_message if {
	some r in policy.deny with input as listener(https("MyCustomPolicy"), {}, null)
	contains(r.msg, "is not a known policy that requires TLS 1.2")
}

test_extra_allowed_policies_are_configurable if {
	inp := listener(https("MyCustomPolicy"), {}, null)
	count(policy.deny) == 0 with input as inp with data.planguard.config as {"lb_allowed_ssl_policies": ["MyCustomPolicy"]}
}

test_nlb_tls_listener_is_checked if {
	count(policy.deny) == 1 with input as listener({"protocol": "TLS", "ssl_policy": "ELBSecurityPolicy-2016-08"}, {}, null)
}

test_http_listener_is_not_checked if {
	inp := listener({"protocol": "HTTP", "ssl_policy": ""}, {}, null)
	count(policy.deny) == 0 with input as inp
	count(policy.warn) == 0 with input as inp
}

test_unset_policy_in_configuration_is_denied if {
	inp := listener({"protocol": "HTTPS"}, {"ssl_policy": true}, {"protocol": {"constant_value": "HTTPS"}})
	some r in policy.deny with input as inp
	contains(r.msg, "ssl_policy is not set, so AWS applies ELBSecurityPolicy-2016-08")
	count(policy.warn) == 0 with input as inp
}

test_null_policy_on_https_listener_is_denied if {
	count(policy.deny) == 1 with input as listener({"protocol": "HTTPS", "ssl_policy": null}, {}, null)
}

test_unknown_policy_from_an_expression_warns if {
	config := {"protocol": {"constant_value": "HTTPS"}, "ssl_policy": {"references": ["var.ssl_policy"]}}
	inp := listener({"protocol": "HTTPS"}, {"ssl_policy": true}, config)
	count(policy.deny) == 0 with input as inp
	some r in policy.warn with input as inp
	contains(r.msg, "`ssl_policy` is unknown until apply")
}

test_unknown_policy_without_configuration_warns if {
	inp := listener({"protocol": "HTTPS"}, {"ssl_policy": true}, null)
	count(policy.deny) == 0 with input as inp
	count(policy.warn) == 1 with input as inp
}

test_old_policy_with_unknown_protocol_is_denied if {
	inp := listener({"ssl_policy": "ELBSecurityPolicy-2016-08"}, {"protocol": true}, null)
	count(policy.deny) == 1 with input as inp
}

package planguard.encryption.lb_listener_https_test

import data.planguard.encryption.lb_listener_https as policy
import rego.v1

listener(kind, after, unknown, actions) := {"resource_changes": [{
	"address": sprintf("%s.front", [kind]),
	"type": kind,
	"name": "front",
	"mode": "managed",
	"change": {"actions": actions, "before": null, "after": after, "after_unknown": unknown},
}]}

http(actions) := {"protocol": "HTTP", "port": 80, "default_action": actions}

forward := {"type": "forward", "target_group_arn": null, "redirect": [], "fixed_response": []}

redirect(protocol) := {"type": "redirect", "redirect": [{"protocol": protocol, "port": "443", "status_code": "HTTP_301"}]}

test_http_listener_forwarding_is_denied if {
	inp := listener("aws_lb_listener", http([forward]), {"default_action": [{"target_group_arn": true}]}, ["create"])
	some r in policy.deny with input as inp
	r.address == "aws_lb_listener.front"
	contains(r.msg, "plain HTTP")
}

test_alb_listener_alias_type_is_checked if {
	inp := listener("aws_alb_listener", http([forward]), {}, ["create"])
	count(policy.deny) == 1 with input as inp
}

test_http_fixed_response_is_denied if {
	fixed := {"type": "fixed-response", "fixed_response": [{"status_code": "404", "content_type": "text/plain"}], "redirect": []}
	count(policy.deny) == 1 with input as listener("aws_lb_listener", http([fixed]), {}, ["create"])
}

test_http_redirect_to_https_passes if {
	inp := listener("aws_lb_listener", http([redirect("HTTPS")]), {}, ["create"])
	count(policy.deny) == 0 with input as inp
	count(policy.warn) == 0 with input as inp
}

test_http_redirect_keeping_the_protocol_is_denied if {
	count(policy.deny) == 1 with input as listener("aws_lb_listener", http([redirect("#{protocol}")]), {}, ["create"])
}

test_unknown_redirect_protocol_warns if {
	action := {"type": "redirect", "redirect": [{"protocol": null, "port": "443", "status_code": "HTTP_301"}]}
	unknown := {"default_action": [{"redirect": [{"protocol": true}]}]}
	inp := listener("aws_lb_listener", http([action]), unknown, ["create"])
	count(policy.deny) == 0 with input as inp
	some r in policy.warn with input as inp
	contains(r.msg, "redirects to HTTPS is unknown until apply")
}

test_unknown_default_action_warns if {
	inp := listener("aws_lb_listener", {"protocol": "HTTP"}, {"default_action": true}, ["create"])
	count(policy.deny) == 0 with input as inp
	count(policy.warn) == 1 with input as inp
}

test_https_listener_passes if {
	inp := listener("aws_lb_listener", {"protocol": "HTTPS", "default_action": [forward]}, {}, ["create"])
	count(policy.deny) == 0 with input as inp
	count(policy.warn) == 0 with input as inp
}

test_tls_listener_passes if {
	inp := listener("aws_lb_listener", {"protocol": "TLS", "default_action": [forward]}, {}, ["create"])
	count(policy.deny) == 0 with input as inp
	count(policy.warn) == 0 with input as inp
}

test_tcp_listener_warns if {
	inp := listener("aws_lb_listener", {"protocol": "TCP", "default_action": [forward]}, {}, ["create"])
	count(policy.deny) == 0 with input as inp
	some r in policy.warn with input as inp
	contains(r.msg, "TCP listener does not terminate TLS")
}

test_tcp_warning_can_be_turned_off if {
	inp := listener("aws_lb_listener", {"protocol": "UDP", "default_action": [forward]}, {}, ["create"])
	count(policy.warn) == 0 with input as inp with data.planguard.config as {"warn_tcp_listeners": false}
}

test_unknown_protocol_warns if {
	inp := listener("aws_lb_listener", {"default_action": [forward]}, {"protocol": true}, ["create"])
	count(policy.deny) == 0 with input as inp
	some r in policy.warn with input as inp
	contains(r.msg, "`protocol` is unknown until apply")
}

test_gateway_listener_without_protocol_is_not_checked if {
	inp := listener("aws_lb_listener", {"protocol": null, "default_action": [forward]}, {}, ["create"])
	count(policy.deny) == 0 with input as inp
	count(policy.warn) == 0 with input as inp
}

test_lowercase_protocol_is_normalised if {
	count(policy.deny) == 1 with input as listener("aws_lb_listener", {"protocol": "http", "default_action": [forward]}, {}, ["create"])
}

test_update_to_http_is_denied if {
	count(policy.deny) == 1 with input as listener("aws_lb_listener", http([forward]), {}, ["update"])
}

test_deleted_http_listener_is_ignored if {
	count(policy.deny) == 0 with input as listener("aws_lb_listener", null, {}, ["delete"])
}

test_change_without_planned_value_is_skipped if {
	count(policy.deny) == 0 with input as listener("aws_lb_listener", null, {}, ["create"])
}

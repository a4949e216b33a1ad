package planguard.encryption.msk_in_transit_encryption_test

import data.planguard.encryption.msk_in_transit_encryption
import rego.v1

plan(after, unknown, expressions) := {
	"resource_changes": [{
		"address": "aws_msk_cluster.events", "type": "aws_msk_cluster", "name": "events", "mode": "managed",
		"change": {"actions": ["create"], "after": object.union({"cluster_name": "events", "kafka_version": "3.6.0"}, after), "after_unknown": unknown},
	}],
	"configuration": {"root_module": {"resources": [{
		"address": "aws_msk_cluster.events", "mode": "managed", "type": "aws_msk_cluster", "name": "events",
		"provider_config_key": "aws", "expressions": expressions,
	}]}},
}

transit(client_broker, in_cluster) := {"encryption_info": [{"encryption_in_transit": [{"client_broker": client_broker, "in_cluster": in_cluster}]}]}

transit_expr(client_broker, in_cluster) := {"encryption_info": [{"encryption_in_transit": [{"client_broker": {"constant_value": client_broker}, "in_cluster": {"constant_value": in_cluster}}]}]}

test_tls_passes if {
	p := plan(transit("TLS", true), {}, transit_expr("TLS", true))
	count(msk_in_transit_encryption.deny) == 0 with input as p
	count(msk_in_transit_encryption.warn) == 0 with input as p
}

test_defaults_pass if {
	p := plan({}, {"encryption_info": true}, {"cluster_name": {"constant_value": "events"}})
	count(msk_in_transit_encryption.deny) == 0 with input as p
	count(msk_in_transit_encryption.warn) == 0 with input as p
}

test_tls_plaintext_is_denied if {
	some r in msk_in_transit_encryption.deny with input as plan(transit("TLS_PLAINTEXT", true), {}, transit_expr("TLS_PLAINTEXT", true))
	r.address == "aws_msk_cluster.events"
	contains(r.msg, "client_broker = \"TLS_PLAINTEXT\"")
}

test_plaintext_in_cluster_is_denied if {
	some r in msk_in_transit_encryption.deny with input as plan(transit("TLS", false), {}, transit_expr("TLS", false))
	contains(r.msg, "in_cluster = false")
}

test_unknown_client_broker_warns if {
	p := plan({"encryption_info": [{"encryption_in_transit": [{"in_cluster": true}]}]}, {"encryption_info": [{"encryption_in_transit": [{"client_broker": true}]}]}, {"encryption_info": [{"encryption_in_transit": [{"client_broker": {"references": ["var.client_broker"]}}]}]})
	count(msk_in_transit_encryption.deny) == 0 with input as p
	count(msk_in_transit_encryption.warn) == 1 with input as p
}

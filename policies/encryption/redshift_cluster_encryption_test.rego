package planguard.encryption.redshift_cluster_encryption_test

import data.planguard.encryption.redshift_cluster_encryption
import rego.v1

plan(after, unknown, expressions) := {
	"resource_changes": [{
		"address": "aws_redshift_cluster.warehouse", "type": "aws_redshift_cluster", "name": "warehouse", "mode": "managed",
		"change": {"actions": ["create"], "after": object.union({"node_type": "ra3.xlplus", "encrypted": false}, after), "after_unknown": unknown},
	}],
	"configuration": {"root_module": {"resources": [{
		"address": "aws_redshift_cluster.warehouse", "mode": "managed", "type": "aws_redshift_cluster", "name": "warehouse",
		"provider_config_key": "aws", "expressions": expressions,
	}]}},
}

test_encrypted_cluster_passes if {
	p := plan({"encrypted": true}, {}, {"encrypted": {"constant_value": true}})
	count(redshift_cluster_encryption.deny) == 0 with input as p
	count(redshift_cluster_encryption.warn) == 0 with input as p
}

test_default_false_is_denied if {
	some r in redshift_cluster_encryption.deny with input as plan({}, {}, {"node_type": {"constant_value": "ra3.xlplus"}})
	r.address == "aws_redshift_cluster.warehouse"
	contains(r.msg, "encrypted = false (not set, so the default applies)")
}

test_explicit_false_is_denied if {
	count(redshift_cluster_encryption.deny) == 1 with input as plan({}, {}, {"encrypted": {"constant_value": false}})
}

test_unknown_warns if {
	p := plan({"encrypted": null}, {"encrypted": true}, {"encrypted": {"references": ["var.encrypted"]}})
	count(redshift_cluster_encryption.deny) == 0 with input as p
	count(redshift_cluster_encryption.warn) == 1 with input as p
}

test_restore_from_snapshot_warns if {
	p := plan({"snapshot_identifier": "warehouse-final"}, {}, {"snapshot_identifier": {"constant_value": "warehouse-final"}})
	count(redshift_cluster_encryption.deny) == 0 with input as p
	count(redshift_cluster_encryption.warn) == 1 with input as p
}

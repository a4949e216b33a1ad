package planguard.encryption.docdb_cluster_encryption_test

import data.planguard.encryption.docdb_cluster_encryption
import rego.v1

plan(after, unknown, expressions) := {
	"resource_changes": [{
		"address": "aws_docdb_cluster.catalog", "type": "aws_docdb_cluster", "name": "catalog", "mode": "managed",
		"change": {"actions": ["create"], "after": object.union({"engine": "docdb"}, after), "after_unknown": unknown},
	}],
	"configuration": {"root_module": {"resources": [{
		"address": "aws_docdb_cluster.catalog", "mode": "managed", "type": "aws_docdb_cluster", "name": "catalog",
		"provider_config_key": "aws", "expressions": expressions,
	}]}},
}

test_encrypted_cluster_passes if {
	count(docdb_cluster_encryption.deny) == 0 with input as plan({"storage_encrypted": true}, {}, {"storage_encrypted": {"constant_value": true}})
}

test_unencrypted_cluster_is_denied if {
	some r in docdb_cluster_encryption.deny with input as plan({"storage_encrypted": false}, {}, {"storage_encrypted": {"constant_value": false}})
	r.address == "aws_docdb_cluster.catalog"
}

test_unset_storage_encrypted_is_denied if {
	some r in docdb_cluster_encryption.deny with input as plan({"storage_encrypted": null}, {}, {})
	contains(r.msg, "not set, so the default applies")
}

test_unknown_warns if {
	p := plan({}, {"storage_encrypted": true}, {"storage_encrypted": {"references": ["var.encrypted"]}})
	count(docdb_cluster_encryption.deny) == 0 with input as p
	count(docdb_cluster_encryption.warn) == 1 with input as p
}

test_restore_from_snapshot_warns if {
	p := plan({"snapshot_identifier": "catalog-final"}, {}, {"snapshot_identifier": {"constant_value": "catalog-final"}})
	count(docdb_cluster_encryption.deny) == 0 with input as p
	count(docdb_cluster_encryption.warn) == 1 with input as p
}

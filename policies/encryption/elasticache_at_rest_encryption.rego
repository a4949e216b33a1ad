# METADATA
# title: ElastiCache replication groups are encrypted at rest
# description: |
#   Without at-rest encryption, cached data swapped to disk, backups and snapshots are stored in
#   clear. The setting cannot be changed after creation and defaults to off for Redis OSS (on
#   for Valkey).
# custom:
#   id: aws-elasticache-at-rest-encryption
#   level: error
#   resource_types: [aws_elasticache_replication_group]
#   remediation: Set `at_rest_encryption_enabled = true` (and optionally `kms_key_id`) on the replication group.
#   checkov: [CKV_AWS_29]
#   trivy: [AVD-AWS-0045]
package planguard.encryption.elasticache_at_rest_encryption

import data.planguard.encryption.helpers
import data.planguard.lib
import rego.v1

attr := ["at_rest_encryption_enabled"]

deny contains lib.result(rc, sprintf("%s: replication group is not encrypted at rest (at_rest_encryption_enabled = false%s)", [rc.address, helpers.default_note(rc, attr)])) if {
	some rc in lib.changes("aws_elasticache_replication_group")
	not secondary(rc)
	helpers.setting(rc, attr, default_value(rc)) == false
}

warn contains lib.unknown_result(rc, "`at_rest_encryption_enabled`") if {
	some rc in lib.changes("aws_elasticache_replication_group")
	not secondary(rc)
	helpers.pending(rc, attr)
}

# AWS encrypts Valkey replication groups at rest by default, Redis OSS ones not.
default_value(rc) := true if {
	helpers.known(rc, ["engine"]) == "valkey"
} else := false

# A secondary of a global datastore takes its encryption settings from the global datastore.
secondary(rc) if {
	helpers.given(rc, ["global_replication_group_id"])
	not helpers.set_in_config(rc, attr)
}

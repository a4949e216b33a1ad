# METADATA
# title: ElastiCache replication groups encrypt traffic in transit
# description: |
#   Without in-transit encryption, clients and replicas exchange cached data and AUTH tokens in
#   clear inside the VPC. `transit_encryption_enabled` defaults to false.
# custom:
#   id: aws-elasticache-transit-encryption
#   level: error
#   resource_types: [aws_elasticache_replication_group]
#   remediation: Set `transit_encryption_enabled = true` on the replication group (use `transit_encryption_mode = "preferred"` first to migrate existing clients without downtime).
#   checkov: [CKV_AWS_30]
#   trivy: [AVD-AWS-0051]
package planguard.encryption.elasticache_transit_encryption

import data.planguard.encryption.helpers
import data.planguard.lib
import rego.v1

attr := ["transit_encryption_enabled"]

deny contains lib.result(rc, sprintf("%s: replication group does not encrypt traffic in transit (transit_encryption_enabled = false%s)", [rc.address, helpers.default_note(rc, attr)])) if {
	some rc in lib.changes("aws_elasticache_replication_group")
	not secondary(rc)
	helpers.setting(rc, attr, false) == false
}

warn contains lib.unknown_result(rc, "`transit_encryption_enabled`") if {
	some rc in lib.changes("aws_elasticache_replication_group")
	not secondary(rc)
	helpers.pending(rc, attr)
}

# A secondary of a global datastore takes its encryption settings from the global datastore.
secondary(rc) if {
	helpers.given(rc, ["global_replication_group_id"])
	not helpers.set_in_config(rc, attr)
}

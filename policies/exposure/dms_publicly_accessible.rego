# METADATA
# title: DMS replication instances are not publicly accessible
# description: |
#   A publicly accessible replication instance gets a public IP while it holds credentials for,
#   and streams data between, your databases. AWS makes it public unless told otherwise.
# custom:
#   id: aws-dms-publicly-accessible
#   level: error
#   resource_types: [aws_dms_replication_instance]
#   remediation: Set `publicly_accessible = false` explicitly (the AWS default is true) and place the instance in private subnets with `replication_subnet_group_id`.
#   checkov: [CKV_AWS_89]
package planguard.exposure.dms_publicly_accessible

import data.planguard.exposure.helpers
import data.planguard.lib
import rego.v1

# `publicly_accessible` is optional and computed: left unset, the plan shows it as unknown and
# AWS creates the instance with a public IP.
deny contains lib.result(rc, msg) if {
	some rc in lib.changes("aws_dms_replication_instance")
	helpers.enabled(rc, ["publicly_accessible"], true)
	msg := sprintf("%s: DMS replication instance is publicly accessible (%s)", [rc.address, helpers.setting_text(rc, ["publicly_accessible"], "true")])
}

warn contains lib.unknown_result(rc, "`publicly_accessible`") if {
	some rc in lib.changes("aws_dms_replication_instance")
	helpers.unknown_setting(rc, ["publicly_accessible"])
}

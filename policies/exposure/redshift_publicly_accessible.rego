# METADATA
# title: Redshift clusters are not publicly accessible
# description: |
#   A publicly accessible cluster gets a public endpoint. In AWS provider v5
#   `publicly_accessible` defaults to true, so a cluster that does not set it is public.
# custom:
#   id: aws-redshift-publicly-accessible
#   level: error
#   resource_types: [aws_redshift_cluster]
#   remediation: Set `publicly_accessible = false` explicitly on the cluster (provider v5 defaults it to true) and reach it from inside the VPC.
#   checkov: [CKV_AWS_87]
package planguard.exposure.redshift_publicly_accessible

import data.planguard.exposure.helpers
import data.planguard.lib
import rego.v1

deny contains lib.result(rc, msg) if {
	some rc in lib.changes("aws_redshift_cluster")
	helpers.enabled(rc, ["publicly_accessible"], true)
	msg := sprintf("%s: Redshift cluster is publicly accessible (%s)", [rc.address, helpers.setting_text(rc, ["publicly_accessible"], "true")])
}

warn contains lib.unknown_result(rc, "`publicly_accessible`") if {
	some rc in lib.changes("aws_redshift_cluster")
	helpers.unknown_setting(rc, ["publicly_accessible"])
}

# METADATA
# title: RDS instances are not publicly accessible
# description: |
#   A publicly accessible DB instance gets a public DNS name and IP, so the database listener
#   is one security group rule away from the internet.
# custom:
#   id: aws-rds-publicly-accessible
#   level: error
#   resource_types: [aws_db_instance, aws_rds_cluster_instance]
#   remediation: Set `publicly_accessible = false` (the default) and reach the database from inside the VPC, through a bastion, VPN or RDS Proxy.
#   checkov: [CKV_AWS_17]
#   trivy: [AVD-AWS-0180]
package planguard.exposure.rds_publicly_accessible

import data.planguard.exposure.helpers
import data.planguard.lib
import rego.v1

# RDS instances, and the instances of Aurora clusters (publicly_accessible is per instance).
instances := array.concat(lib.changes("aws_db_instance"), lib.changes("aws_rds_cluster_instance"))

deny contains lib.result(rc, sprintf("%s: DB instance is publicly accessible (publicly_accessible = true)", [rc.address])) if {
	some rc in instances
	helpers.enabled(rc, ["publicly_accessible"], false)
}

warn contains lib.unknown_result(rc, "`publicly_accessible`") if {
	some rc in instances
	helpers.unknown_setting(rc, ["publicly_accessible"])
}

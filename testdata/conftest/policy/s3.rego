package terraform.s3

import rego.v1

deny contains sprintf("%s: versioning must be enabled", [rc.address]) if {
	some rc in input.resource_changes
	rc.type == "aws_s3_bucket_versioning"
	rc.change.after.versioning_configuration[0].status != "Enabled"
}

package fine

import rego.v1

deny contains sprintf("%s is changing", [rc.address]) if {
	some rc in input.resource_changes
	rc.type == "aws_s3_bucket"
}

package main

import rego.v1

deny contains {"msg": sprintf("%s: acl %s", [rc.address, rc.change.after.acl]), "resource": rc.address} if {
	some rc in input.resource_changes
	rc.type == "aws_s3_bucket"
}

violation_deleted contains {"msg": "deleted", "severity": "high"} if {
	some rc in input.resource_changes
	"delete" in rc.change.actions
}

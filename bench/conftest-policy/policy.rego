# A conftest-style policy for the benchmark: `package main`, five `deny` rules over
# input.resource_changes, string messages. It is what a team would write for
# `conftest test plan.json`, and is evaluated the same way by
# `planguard check --no-builtin -p bench/conftest-policy`.
package main

import rego.v1

required_tags := {"Owner", "CostCenter", "Environment"}

# Changes that create or update an object (including both halves of a replace).
changed(rc) if {
	some action in rc.change.actions
	action in {"create", "update"}
}

deny contains msg if {
	some rc in input.resource_changes
	rc.type == "aws_ebs_volume"
	changed(rc)
	not rc.change.after.encrypted
	msg := sprintf("%s: EBS volume is not encrypted", [rc.address])
}

deny contains msg if {
	some rc in input.resource_changes
	rc.type == "aws_security_group"
	changed(rc)
	some rule in rc.change.after.ingress
	rule.from_port <= 22
	rule.to_port >= 22
	"0.0.0.0/0" in rule.cidr_blocks
	msg := sprintf("%s: SSH (port 22) is open to 0.0.0.0/0", [rc.address])
}

deny contains msg if {
	some rc in input.resource_changes
	rc.type == "aws_instance"
	changed(rc)
	some tag in required_tags
	not rc.change.after.tags[tag]
	msg := sprintf("%s: instance is missing the %s tag", [rc.address, tag])
}

deny contains msg if {
	some rc in input.resource_changes
	rc.type == "aws_db_instance"
	changed(rc)
	rc.change.after.publicly_accessible == true
	msg := sprintf("%s: RDS instance is publicly accessible", [rc.address])
}

deny contains msg if {
	some rc in input.resource_changes
	rc.type == "aws_s3_bucket"
	changed(rc)
	not versioning_enabled(rc)
	msg := sprintf("%s: S3 bucket does not have versioning enabled", [rc.address])
}

versioning_enabled(rc) if {
	some v in rc.change.after.versioning
	v.enabled == true
}

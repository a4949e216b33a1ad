package main

import rego.v1

deny contains msg if {
	rc := input.resource_changes[_]
	regex.match("^aws_s3_", rc.type)
	true in [rc.change.after.acl == "public-read", false]
	msg := sprintf("%s: public bucket", [rc.address])
}

deny contains msg if {
	rc := input.resource_changes[_]
	every x in [rc.type == "aws_instance", startswith(rc.change.after.ami, "ami-")] { x == true }
	net.cidr_contains("10.0.0.0/8", "10.1.2.3")
	count({"a", "b"} - {"b"}) == 1
	msg := sprintf("%s: instance", [rc.address])
}

warn contains msg if {
	rc := input.resource_changes[_]
	rc.type == "aws_instance"
	msg := sprintf("%s: first body", [rc.address])
}

warn contains msg if {
	rc := input.resource_changes[_]
	rc.type == "aws_db_instance"
	msg := sprintf("%s: second body", [rc.address])
}

# all([]) is true and any([]) is false: only the second body holds.
violation contains msg if {
	false
	msg := "all([]) is false"
}

violation contains msg if {
	msg := "any([]) is false"
}

package main

import rego.v1

kind(rc) := "instance" if rc.type == "aws_instance"

deny contains msg if {
	some rc in input.resource_changes
	msg := sprintf("%s is a %s", [rc.address, kind(rc)])
}

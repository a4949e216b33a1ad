package main

import rego.v1

deny contains sprintf("a: %s", [rc.address]) if {
	some rc in input.resource_changes
	rc.type == "aws_instance"
}

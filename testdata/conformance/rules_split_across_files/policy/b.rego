package main

import rego.v1

deny contains sprintf("b: %s", [rc.address]) if {
	some rc in input.resource_changes
	rc.type == "aws_db_instance"
}

warn_b contains "b warns" if true

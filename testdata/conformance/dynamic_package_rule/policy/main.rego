package main

import rego.v1

deny contains msg if {
	some pkg
	t := data.rules[pkg].resource_type
	some rc in input.resource_changes
	rc.type == t
	msg := sprintf("%s: %s", [pkg, rc.address])
}

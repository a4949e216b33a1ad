package main

import rego.v1

default level := "low"

level := "high" if {
	some rc in input.resource_changes
	"delete" in rc.change.actions
}

size(rc) := "big" if {
	rc.change.after.instance_type == "m4.xlarge"
} else := "none" if {
	rc.change.after == null
} else := "small"

deny contains sprintf("level %s", [level])

deny contains msg if {
	some rc in input.resource_changes
	msg := sprintf("%s is %s", [rc.address, size(rc)])
}

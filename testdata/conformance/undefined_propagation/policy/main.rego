package main

import rego.v1

deny contains msg if {
	some rc in input.resource_changes
	rc.change.after.missing != "x"
	msg := sprintf("%s: != on undefined", [rc.address])
}

deny contains msg if {
	some rc in input.resource_changes
	x := object.get(rc.change, ["after", "tags", "Env"], "none")
	msg := sprintf("%s: env %s", [rc.address, x])
}

warn contains msg if {
	some rc in input.resource_changes
	count(rc.change.after_unknown) > 0
	msg := sprintf("%s: has unknowns", [rc.address])
}

package main

import rego.v1

deny contains msg if {
	some rc in input.resource_changes
	every action in rc.change.actions { action != "update" }
	msg := sprintf("%s: no update", [rc.address])
}

warn contains msg if {
	some i, rc in input.resource_changes
	every k, v in object.get(rc.change.after, "tags", {}) { startswith(k, "O"); v != "" }
	msg := sprintf("%d %s: tags ok", [i, rc.address])
}

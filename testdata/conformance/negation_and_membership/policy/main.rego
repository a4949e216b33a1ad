package main

import rego.v1

deny contains msg if {
	some rc in input.resource_changes
	not "create" in rc.change.actions
	msg := sprintf("%s: not created", [rc.address])
}

deny contains msg if {
	some rc in input.resource_changes
	not rc.change.after.tags.Owner
	msg := sprintf("%s: no owner", [rc.address])
}

warn contains msg if {
	some rc in input.resource_changes
	not rc.change.after.acl == "private"
	msg := sprintf("%s: acl not private", [rc.address])
}

package main

import rego.v1

deny contains msg if {
	some rc in input.resource_changes
	not no_such_builtin(rc.type)
	msg := rc.address
}

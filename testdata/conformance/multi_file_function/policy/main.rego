package main

import rego.v1

# `is_public` is defined in helpers.rego, same package, called unqualified.
deny contains msg if {
	some rc in input.resource_changes
	is_public(rc)
	msg := sprintf("%s is public", [rc.address])
}

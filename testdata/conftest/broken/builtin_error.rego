package broken

import rego.v1

# to_number fails on a non-numeric string: a builtin error at evaluation time.
deny contains msg if {
	some rc in input.resource_changes
	n := to_number(rc.name)
	msg := sprintf("never %v", [n])
}

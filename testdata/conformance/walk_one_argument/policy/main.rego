package main

import rego.v1

# walk's one-argument form returns [path, value] pairs.
deny contains msg if {
	[path, value] := walk(input.resource_changes)
	value == "public-read"
	msg := sprintf("public-read at %v", [path])
}

warn contains msg if {
	walk(input.resource_changes, [path, value])
	value == "ami-123"
	msg := sprintf("ami at %v", [path])
}

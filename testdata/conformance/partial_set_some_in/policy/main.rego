package main

import rego.v1

# Partial set rules whose bodies use `some ... in`, walk, with and a helper of another file.
taggable_resources contains r if {
	some r in input.resource_changes
	r.change.after.tags
}

tagged contains r.address if {
	some r in taggable_resources
	has_tags(r)
}

paths contains path if {
	[path, value] := walk(input.resource_changes)
	value == "prod"
}

deny contains sprintf("taggable %s", [r.address]) if some r in taggable_resources

deny contains sprintf("tagged %s", [a]) if some a in tagged

deny contains sprintf("path %v", [p]) if some p in paths

warn contains sprintf("same as comprehension: %v", [count(taggable_resources) == count([r | some r in input.resource_changes; r.change.after.tags])])

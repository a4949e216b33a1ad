package main

import data.lib.names
import rego.v1

kinds := {rc.type | some rc in input.resource_changes}

count_of(t) := count([rc | some rc in input.resource_changes; rc.type == t])

# Defined after other rules, with a loop and an import, so its expressions sit elsewhere
# than in a.rego.
label(rc) := sprintf("%s #%d", [names.short(rc.type), n]) if {
	rc.type != "aws_s3_bucket"
	some t in kinds
	t == rc.type
	n := count_of(t)
}

tags_of(rc) := {} if not rc.change.after.tags

deny contains msg if {
	some rc in input.resource_changes
	msg := sprintf("%s: %s, %d tags", [rc.address, label(rc), count(tags_of(rc))])
}

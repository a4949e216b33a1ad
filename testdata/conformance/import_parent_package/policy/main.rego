package main

import data.fugue
import rego.v1

deny contains msg if {
	some rc in fugue.plan.resource_changes
	"delete" in rc.change.actions
	msg := sprintf("%s is deleted", [rc.address])
}

warn contains msg if {
	some b in data.fugue.regula.config.buckets
	msg := sprintf("bucket %s", [b.address])
}

package main

import data.fugue
import rego.v1

deny contains msg if {
	some p in data.rules.s3_acl.policy
	not p.valid
	msg := sprintf("%s: not private (%d changes)", [p.id, count(fugue.plan.resource_changes)])
}

warn contains msg if {
	some b in fugue.resources("aws_s3_bucket")
	msg := sprintf("bucket %s", [b.address])
}

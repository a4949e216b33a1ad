package main

import rego.v1

taggable_types := {"aws_s3_bucket", "aws_instance", "aws_db_instance"}

is_taggable(rc) if {
	rc.type in taggable_types
}

changed(rc) if {
	some action in rc.change.actions
	action in {"create", "update"}
}

tags(rc) := t if {
	t := rc.change.after.tags
} else := {}

taggable_resources contains rc if {
	some rc in input.resource_changes
	is_taggable(rc)
	changed(rc)
}

taggable_list := [rc | some rc in input.resource_changes; is_taggable(rc); changed(rc)]

deny contains msg if {
	rc := taggable_resources[_]
	not tags(rc).Owner
	msg := sprintf("%s has no Owner tag", [rc.address])
}

warn contains msg if {
	count(taggable_resources) == count(taggable_list)
	msg := sprintf("%d taggable resources", [count(taggable_resources)])
}

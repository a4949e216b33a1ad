package main

import future.keywords.in

taggable_types := {"aws_s3_bucket", "aws_instance", "aws_db_instance"}

is_taggable(rc) {
	rc.type in taggable_types
}

changed(rc) {
	some action in rc.change.actions
	action in {"create", "update"}
}

tags(rc) = t {
	t := rc.change.after.tags
} else = {} {
	true
}

taggable_resources[rc] {
	some rc in input.resource_changes
	is_taggable(rc)
	changed(rc)
}

taggable_list := [rc | some rc in input.resource_changes; is_taggable(rc); changed(rc)]

deny[msg] {
	rc := taggable_resources[_]
	not tags(rc).Owner
	msg := sprintf("%s has no Owner tag", [rc.address])
}

warn[msg] {
	count(taggable_resources) == count(taggable_list)
	msg := sprintf("%d taggable resources", [count(taggable_resources)])
}

# A conftest-style policy set, written the way teams write them for `conftest test`.
package main

import rego.v1

buckets contains rc if {
	some rc in input.resource_changes
	rc.type == "aws_s3_bucket"
	rc.change.actions[_] in {"create", "update"}
}

deny contains msg if {
	some rc in buckets
	rc.change.after.acl in {"public-read", "public-read-write"}
	msg := sprintf("%s: bucket ACL %s makes it public", [rc.address, rc.change.after.acl])
}

deny_tags contains msg if {
	some rc in input.resource_changes
	rc.type == "aws_instance"
	"create" in rc.change.actions
	some tag in ["Owner", "CostCenter"]
	not rc.change.after.tags[tag]
	msg := sprintf("%s: missing tag %s", [rc.address, tag])
}

exception contains rules if {
	some rc in input.resource_changes
	rc.address == "aws_instance.legacy"
	rules := ["tags"]
}

warn contains msg if {
	some rc in input.resource_changes
	rc.type == "aws_instance"
	not rc.change.after.instance_type in data.allowed.instance_types
	msg := sprintf("%s: instance type %s is not in the approved list", [rc.address, rc.change.after.instance_type])
}

violation contains {"msg": msg, "address": rc.address, "severity": "high"} if {
	some rc in input.resource_changes
	rc.change.actions == ["delete"]
	rc.type == "aws_s3_bucket"
	msg := sprintf("deleting bucket %s", [rc.address])
}

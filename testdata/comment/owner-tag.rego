# A plain conftest policy: no catalogue metadata, so its findings are not linked.
package comment.owner_tag

import rego.v1

warn contains msg if {
	some rc in input.resource_changes
	startswith(rc.type, "aws_")
	"create" in rc.change.actions
	not rc.change.after.tags.owner
	msg := sprintf("%s has no `owner` tag", [rc.address])
}

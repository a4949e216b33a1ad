# METADATA
# title: Cost tags
# description: |
#   End-to-end test policy: every `terraform_data` input carries a `cost_center` tag. It also
#   reads the stack context the server passes as data, to prove it arrives.
# custom:
#   id: tfdata-cost-tags
#   level: warning
#   resource_types: [terraform_data]
#   remediation: Add `tags.cost_center`.
package planguard.e2e.tags

import rego.v1

warn contains msg if {
	some rc in input.resource_changes
	rc.type == "terraform_data"
	not rc.change.after.input.tags.cost_center
	msg := sprintf("%s has no cost_center tag (stack %s, account %s)", [rc.address, data.planguard.stack.name, data.planguard.stack.account_id])
}

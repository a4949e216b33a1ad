# METADATA
# title: Stores are encrypted
# description: |
#   End-to-end test policy: a `terraform_data` whose input says `encrypted = false` stands for
#   an unencrypted data store.
# custom:
#   id: tfdata-encrypted
#   level: error
#   resource_types: [terraform_data]
#   remediation: Set `encrypted = true`.
package planguard.e2e.encrypted

import rego.v1

deny contains msg if {
	some rc in input.resource_changes
	rc.type == "terraform_data"
	rc.change.after.input.encrypted == false
	msg := sprintf("%s stores data unencrypted", [rc.address])
}

# METADATA
# title: Nothing is public
# description: |
#   End-to-end test policy: a `terraform_data` whose input has a public ACL stands for a public
#   bucket.
# custom:
#   id: tfdata-public
#   level: error
#   resource_types: [terraform_data]
#   remediation: Remove the public ACL.
package planguard.e2e.public

import rego.v1

deny contains msg if {
	some rc in input.resource_changes
	rc.type == "terraform_data"
	startswith(rc.change.after.input.acl, "public")
	msg := sprintf("%s is public (acl %s)", [rc.address, rc.change.after.input.acl])
}

# A careless policy that puts attribute values into its messages: planguard must redact them.
package secrets

import rego.v1

deny contains msg if {
	some rc in input.resource_changes
	rc.type == "aws_db_instance"
	msg := sprintf("%s: master password %s is set in code (username %s)", [rc.address, rc.change.after.password, rc.change.after.username])
}

warn contains msg if {
	some name, v in input.variables
	name == "db_password"
	msg := sprintf("variable %s = %s", [name, v.value])
}

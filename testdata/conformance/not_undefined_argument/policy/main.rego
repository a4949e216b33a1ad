package main

import rego.v1

encrypted(x) if x == true

# `storage_encrypted_missing` is not in the plan: is `not encrypted(<undefined>)` true?
deny contains msg if {
	some rc in input.resource_changes
	rc.type == "aws_db_instance"
	not encrypted(rc.change.before.storage_encrypted_missing)
	msg := sprintf("%s: undefined argument", [rc.address])
}

deny contains msg if {
	some rc in input.resource_changes
	rc.type == "aws_db_instance"
	not encrypted(rc.change.before.storage_encrypted)
	msg := sprintf("%s: false argument", [rc.address])
}

warn contains msg if {
	some rc in input.resource_changes
	not rc.change.after.missing
	msg := sprintf("%s: plain undefined reference", [rc.address])
}

package main

import rego.v1

# The comprehension's variable has the name of the function it is in.
resource(t) := [resource | some resource in input.resource_changes; resource.type == t]

deny contains msg if {
	some r in resource("aws_s3_bucket")
	msg := sprintf("bucket %s", [r.address])
}

warn contains msg if {
	count(resource("aws_instance")) == 1
	msg := "one instance"
}

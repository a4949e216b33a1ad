package main

import rego.v1

by_address[rc.address] := rc.type if some rc in input.resource_changes

types contains t if some t in by_address

deny contains msg if {
	some addr, t in by_address
	t == "aws_s3_bucket"
	msg := sprintf("%s -> %s", [addr, t])
}

warn contains sprintf("%d types", [count(types)])

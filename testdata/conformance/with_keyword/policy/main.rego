package main

import rego.v1

count_buckets := count([rc | some rc in input.resource_changes; rc.type == "aws_s3_bucket"])

deny contains msg if {
	n := count_buckets with input.resource_changes as []
	msg := sprintf("with no changes: %d", [n])
}

deny contains msg if {
	n := count_buckets
	msg := sprintf("without with: %d", [n])
}

deny contains msg if {
	u := upper("x") with upper as lower
	msg := sprintf("mocked upper: %s", [u])
}

package rules.s3_acl

import data.fugue
import rego.v1

resource_type := "MULTIPLE"

buckets := fugue.resources("aws_s3_bucket")

policy contains p if {
	some b in buckets
	b.change.after.acl == "private"
	p := fugue.allow_resource(b)
}

policy contains p if {
	some b in buckets
	b.change.after.acl != "private"
	p := fugue.reject_resource(b)
}

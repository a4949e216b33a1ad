package main

import rego.v1

# The first definitions of `label` and `tags_of`; more are in b.rego.
label(rc) := "bucket" if rc.type == "aws_s3_bucket"

tags_of(rc) := rc.change.after.tags

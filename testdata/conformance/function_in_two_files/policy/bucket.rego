package main

import rego.v1

kind(rc) := "bucket" if rc.type == "aws_s3_bucket"

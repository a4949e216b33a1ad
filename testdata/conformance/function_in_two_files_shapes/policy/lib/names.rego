package lib.names

import rego.v1

short(t) := trim_prefix(t, "aws_")

package rules.s3

import rego.v1

resource_type := "aws_s3_bucket"

# Never evaluated by OPA for data.rules[pkg].resource_type: it would be an error.
broken := to_number("not a number")

package rules.ec2

import rego.v1

resource_type := "aws_instance"

also_broken := 1 / 0

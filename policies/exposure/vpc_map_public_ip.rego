# METADATA
# title: Subnets do not give instances public IPs by default
# description: |
#   With map_public_ip_on_launch, every instance, container task or node launched into the
#   subnet gets a public IP unless it opts out, so exposure depends on each launch remembering to.
# custom:
#   id: aws-vpc-map-public-ip
#   level: warning
#   resource_types: [aws_subnet]
#   remediation: Set `map_public_ip_on_launch = false` (the default) and assign public IPs or Elastic IPs only to the resources that must be public, such as NAT gateways and load balancers.
#   checkov: [CKV_AWS_130]
#   trivy: [AVD-AWS-0164]
package planguard.exposure.vpc_map_public_ip

import data.planguard.exposure.helpers
import data.planguard.lib
import rego.v1

warn contains lib.result(rc, sprintf("%s: subnet assigns a public IP to every instance launched in it (map_public_ip_on_launch = true)", [rc.address])) if {
	some rc in lib.changes("aws_subnet")
	helpers.enabled(rc, ["map_public_ip_on_launch"], false)
}

warn contains lib.unknown_result(rc, "`map_public_ip_on_launch`") if {
	some rc in lib.changes("aws_subnet")
	helpers.unknown_setting(rc, ["map_public_ip_on_launch"])
}

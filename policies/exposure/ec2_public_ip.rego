# METADATA
# title: Instances and launch templates do not assign public IPs
# description: |
#   An instance with a public IP is reachable from the internet on every port its security
#   groups open, bypassing load balancers, WAFs and NAT.
# custom:
#   id: aws-ec2-public-ip
#   level: error
#   resource_types: [aws_instance, aws_launch_template, aws_launch_configuration]
#   remediation: Set `associate_public_ip_address = false` (for launch templates, in `network_interfaces`), launch into private subnets, and reach instances through a load balancer or SSM Session Manager.
#   checkov: [CKV_AWS_88, CKV_AWS_389]
#   trivy: [AVD-AWS-0009]
package planguard.exposure.ec2_public_ip

import data.planguard.exposure.helpers
import data.planguard.lib
import rego.v1

# aws_instance and aws_launch_configuration: a boolean that is optional and computed (left
# unset, the subnet's map_public_ip_on_launch decides; see aws-vpc-map-public-ip).
deny contains lib.result(rc, sprintf("%s: assigns a public IP address (associate_public_ip_address = true)", [rc.address])) if {
	some kind in ["aws_instance", "aws_launch_configuration"]
	some rc in lib.changes(kind)
	not planguard.unknown(rc, ["associate_public_ip_address"])
	planguard.value(rc, ["associate_public_ip_address"], false) == true
}

warn contains lib.unknown_result(rc, "`associate_public_ip_address`") if {
	some kind in ["aws_instance", "aws_launch_configuration"]
	some rc in lib.changes(kind)
	helpers.unknown_configured(rc, ["associate_public_ip_address"])
}

# aws_launch_template: network_interfaces[].associate_public_ip_address is a string.
deny contains lib.result(rc, sprintf("%s: network interface %d assigns a public IP address (associate_public_ip_address = \"true\")", [rc.address, i])) if {
	some rc in lib.changes("aws_launch_template")
	some i, nic in planguard.value(rc, ["network_interfaces"], [])
	not planguard.unknown(rc, ["network_interfaces", i, "associate_public_ip_address"])
	truthy(object.get(nic, "associate_public_ip_address", null))
}

truthy(v) if v == true

truthy(v) if {
	is_string(v)
	lower(v) == "true"
}

warn contains lib.unknown_result(rc, "`network_interfaces.associate_public_ip_address`") if {
	some rc in lib.changes("aws_launch_template")
	some i, _ in planguard.value(rc, ["network_interfaces"], [])
	planguard.unknown(rc, ["network_interfaces", i, "associate_public_ip_address"])
}

warn contains lib.unknown_result(rc, "`network_interfaces`") if {
	some rc in lib.changes("aws_launch_template")
	helpers.unknown_configured(rc, ["network_interfaces"])
}

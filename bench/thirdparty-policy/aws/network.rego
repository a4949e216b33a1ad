package aws.network

import data.lib.terraform as tf
import rego.v1

deny_ssh_world contains tf.msg(rc, "SSH open to 0.0.0.0/0") if {
	some [rc, from, to] in tf.world_ingress
	tf.port_in(22, from, to)
}

deny_rdp_world contains tf.msg(rc, "RDP open to 0.0.0.0/0") if {
	some [rc, from, to] in tf.world_ingress
	tf.port_in(3389, from, to)
}

deny_all_ports_world contains tf.msg(rc, "every port open to 0.0.0.0/0") if {
	some [rc, from, to] in tf.world_ingress
	from == 0
	to >= 65535
}

deny_database_ports_world contains tf.msg(rc, sprintf("database port %d open to 0.0.0.0/0", [port])) if {
	some [rc, from, to] in tf.world_ingress
	some port in [3306, 5432, 1433, 27017, 6379]
	tf.port_in(port, from, to)
}

deny_public_subnet contains tf.msg(rc, "subnet assigns public IP addresses") if {
	some rc in tf.by_type.aws_subnet
	rc.change.after.map_public_ip_on_launch == true
}

deny_http_listener contains tf.msg(rc, "listener serves plain HTTP without redirecting") if {
	some rc in tf.by_type.aws_lb_listener
	rc.change.after.protocol == "HTTP"
	some action in rc.change.after.default_action
	action.type != "redirect"
}

deny_lb_deletion_protection contains tf.msg(rc, "internet-facing load balancer without deletion protection") if {
	some rc in tf.by_type.aws_lb
	rc.change.after.internal == false
	not rc.change.after.enable_deletion_protection
}

# METADATA
# title: Load balancer listeners accept only HTTPS/TLS, or redirect HTTP to HTTPS
# description: |
#   A plain HTTP listener on an Application Load Balancer carries requests, cookies and
#   credentials in clear between the client and AWS. An HTTP listener is accepted only when its
#   default action redirects to HTTPS (the usual port-80 listener); listener rules are not
#   followed, so a rule that forwards HTTP traffic is not seen here. Network Load Balancer
#   listeners with protocol TCP, UDP or TCP_UDP pass traffic through without terminating TLS:
#   that is fine when the targets terminate TLS themselves (TLS passthrough), so they get a
#   warning rather than an error, which `warn_tcp_listeners: false` in data.planguard.config
#   turns off. Gateway Load Balancer listeners (no protocol) are not checked.
# custom:
#   id: aws-lb-listener-https
#   level: error
#   resource_types: [aws_lb_listener, aws_alb_listener]
#   remediation: Set `protocol = "HTTPS"` (ALB) or `"TLS"` (NLB) with a `certificate_arn` and an `ssl_policy`, or keep the HTTP listener only to redirect, with `default_action { type = "redirect" redirect { protocol = "HTTPS" port = "443" status_code = "HTTP_301" } }`.
#   checkov: [CKV_AWS_2]
#   trivy: [AVD-AWS-0054]
package planguard.encryption.lb_listener_https

import data.planguard.lib
import rego.v1

listeners contains rc if {
	some kind in ["aws_lb_listener", "aws_alb_listener"]
	some rc in lib.changes(kind)
	is_object(planguard.after(rc))
}

protocol(rc) := upper(p) if {
	not planguard.unknown(rc, ["protocol"])
	p := planguard.value(rc, ["protocol"], "")
	is_string(p)
}

actions(rc) := a if {
	a := planguard.value(rc, ["default_action"], [])
	is_array(a)
} else := []

redirects_to_https(rc) if {
	some action in actions(rc)
	action.type == "redirect"
	some redirect in object.get(action, "redirect", [])
	protocol := object.get(redirect, "protocol", null)
	is_string(protocol)
	upper(protocol) == "HTTPS"
}

# Whether the default action redirects to HTTPS is decided at apply time.
redirect_unknown(rc) if planguard.unknown(rc, ["default_action"])

redirect_unknown(rc) if {
	some i, _ in actions(rc)
	planguard.unknown(rc, ["default_action", i, "type"])
}

redirect_unknown(rc) if {
	some i, action in actions(rc)
	action.type == "redirect"
	planguard.unknown(rc, ["default_action", i, "redirect"])
}

redirect_unknown(rc) if {
	some i, action in actions(rc)
	action.type == "redirect"
	some j, _ in object.get(action, "redirect", [])
	planguard.unknown(rc, ["default_action", i, "redirect", j, "protocol"])
}

deny contains lib.result(rc, msg) if {
	some rc in listeners
	protocol(rc) == "HTTP"
	not redirects_to_https(rc)
	not redirect_unknown(rc)
	msg := sprintf("%s: listener serves plain HTTP (protocol = \"HTTP\") and its default action does not redirect to HTTPS", [rc.address])
}

warn contains lib.unknown_result(rc, "`protocol`") if {
	some rc in listeners
	planguard.unknown(rc, ["protocol"])
}

warn contains lib.unknown_result(rc, "whether the HTTP listener's default action redirects to HTTPS") if {
	some rc in listeners
	protocol(rc) == "HTTP"
	not redirects_to_https(rc)
	redirect_unknown(rc)
}

warn contains lib.result(rc, msg) if {
	some rc in listeners
	lib.config("warn_tcp_listeners", true) == true
	p := protocol(rc)
	p in {"TCP", "UDP", "TCP_UDP"}
	msg := sprintf("%s: %s listener does not terminate TLS at the load balancer; make sure the targets terminate TLS (passthrough), or use protocol \"TLS\"", [rc.address, p])
}

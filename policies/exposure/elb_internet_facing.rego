# METADATA
# title: Internet-facing load balancers are intended
# description: |
#   An internet-facing load balancer publishes whatever sits behind it. Many are meant to be
#   public; this warning asks for that to be stated, so an internal service is not exposed by
#   forgetting `internal = true`.
# custom:
#   id: aws-elb-internet-facing
#   level: warning
#   resource_types: [aws_lb, aws_alb]
#   remediation: Set `internal = true` for load balancers that serve only the VPC. For intended public ones, add the tag `planguard:public = "true"` or list the address in the `public_load_balancers` setting.
#   trivy: [AVD-AWS-0053]
package planguard.exposure.elb_internet_facing

import data.planguard.exposure.helpers
import data.planguard.lib
import rego.v1

kinds := ["aws_lb", "aws_alb"]

warn contains lib.result(rc, sprintf("%s: %s load balancer is internet-facing (%s); tag it `planguard:public = \"true\"` if that is intended", [rc.address, lb_type(rc), helpers.setting_text(rc, ["internal"], "false")])) if {
	some kind in kinds
	some rc in lib.changes(kind)
	lb_type(rc) != "gateway"
	internet_facing(rc)
	not allowed(rc)
}

# `internal` is optional and computed: left unset, the plan shows it as unknown and the load
# balancer is created internet-facing.
internet_facing(rc) if {
	not planguard.unknown(rc, ["internal"])
	planguard.value(rc, ["internal"], false) == false
}

internet_facing(rc) if {
	planguard.unknown(rc, ["internal"])
	helpers.unset_in_config(rc, ["internal"])
}

lb_type(rc) := planguard.value(rc, ["load_balancer_type"], "application")

allowed(rc) if {
	some attr in ["tags", "tags_all"]
	tags := planguard.value(rc, [attr], {})
	is_object(tags)
	tags["planguard:public"] == "true"
}

allowed(rc) if {
	some listed in lib.config("public_load_balancers", [])
	listed in {rc.address, regex.replace(rc.address, `\[[^\]]*\]`, "")}
}

warn contains lib.unknown_result(rc, "`internal`") if {
	some kind in kinds
	some rc in lib.changes(kind)
	lb_type(rc) != "gateway"
	helpers.unknown_setting(rc, ["internal"])
	not allowed(rc)
}

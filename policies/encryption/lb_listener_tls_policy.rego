# METADATA
# title: HTTPS/TLS load balancer listeners require TLS 1.2 or newer
# description: |
#   The listener's security policy decides which TLS versions and ciphers clients may use.
#   Older policies (ELBSecurityPolicy-2016-08, -2015-05, -TLS-1-0-*, -TLS-1-1-*, -FS-2018-06,
#   -FS-1-1-*, and also -TLS13-1-0-* and -TLS13-1-1-*) still accept TLS 1.0 and 1.1, which
#   PCI DSS and most baselines forbid. A listener without `ssl_policy` gets the API default,
#   ELBSecurityPolicy-2016-08. Accepted: the ELBSecurityPolicy-TLS13-1-2/1-3-*, -FS-1-2-* and
#   -TLS-1-2-* families, plus any name listed in `lb_allowed_ssl_policies` in
#   data.planguard.config.
# custom:
#   id: aws-lb-listener-tls-policy
#   level: error
#   resource_types: [aws_lb_listener, aws_alb_listener]
#   remediation: Set `ssl_policy = "ELBSecurityPolicy-TLS13-1-2-2021-06"` (or another TLS 1.2+ policy such as ELBSecurityPolicy-TLS13-1-2-Res-2021-06 or ELBSecurityPolicy-FS-1-2-Res-2020-10) on the HTTPS/TLS listener.
#   checkov: [CKV_AWS_103]
#   trivy: [AVD-AWS-0047]
package planguard.encryption.lb_listener_tls_policy

import data.planguard.lib
import rego.v1

listeners contains rc if {
	some kind in ["aws_lb_listener", "aws_alb_listener"]
	some rc in lib.changes(kind)
	is_object(planguard.after(rc))
}

# The listener terminates TLS.
terminates_tls(rc) if {
	not planguard.unknown(rc, ["protocol"])
	upper(planguard.value(rc, ["protocol"], "")) in {"HTTPS", "TLS"}
}

# The listener may terminate TLS: HTTPS/TLS, or a protocol only known at apply (the protocol
# policy warns about that); an ssl_policy on such a listener is checked.
may_terminate_tls(rc) if terminates_tls(rc)

may_terminate_tls(rc) if planguard.unknown(rc, ["protocol"])

# TLS 1.2 or newer: the policy name carries its minimum version.
strong(name) if regex.match(`^ELBSecurityPolicy-(TLS13-|FS-|TLS-)1-[23]-`, name)

strong(name) if name in lib.config("lb_allowed_ssl_policies", [])

old_policy(name) if regex.match(`^ELBSecurityPolicy-(TLS13-|FS-|TLS-)1-[01]-`, name)

old_policy(name) if name in {"ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-2015-05", "ELBSecurityPolicy-2015-03", "ELBSecurityPolicy-2015-02", "ELBSecurityPolicy-2014-10", "ELBSecurityPolicy-2014-01", "ELBSecurityPolicy-2011-08", "ELBSecurityPolicy-FS-2018-06"}

reason(name) := "allows TLS 1.0/1.1" if {
	old_policy(name)
} else := "is not a known policy that requires TLS 1.2 or newer (list it in lb_allowed_ssl_policies if it is)"

# ssl_policy is set, in the plan or (when its value is unknown) in the configuration.
configured(rc) if lib.config_block(rc).expressions.ssl_policy

deny contains lib.result(rc, msg) if {
	some rc in listeners
	not planguard.unknown(rc, ["ssl_policy"])
	name := planguard.value(rc, ["ssl_policy"], null)
	is_string(name)
	name != ""
	may_terminate_tls(rc)
	not strong(name)
	msg := sprintf("%s: ssl_policy %q %s", [rc.address, name, reason(name)])
}

deny contains lib.result(rc, msg) if {
	some rc in listeners
	terminates_tls(rc)
	not_set(rc)
	msg := sprintf("%s: ssl_policy is not set, so AWS applies ELBSecurityPolicy-2016-08, which allows TLS 1.0/1.1", [rc.address])
}

not_set(rc) if {
	not planguard.unknown(rc, ["ssl_policy"])
	planguard.value(rc, ["ssl_policy"], "") == ""
}

# Unknown in the plan because the provider computes it, and absent from the configuration.
not_set(rc) if {
	planguard.unknown(rc, ["ssl_policy"])
	lib.config_block(rc)
	not configured(rc)
}

warn contains lib.unknown_result(rc, "`ssl_policy`") if {
	some rc in listeners
	terminates_tls(rc)
	planguard.unknown(rc, ["ssl_policy"])
	not not_set(rc)
}

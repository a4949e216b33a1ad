# METADATA
# title: CloudFront distributions send viewers to HTTPS
# description: |
#   With `viewer_protocol_policy = "allow-all"` a cache behavior serves its paths over plain
#   HTTP, so requests, responses and cookies cross the internet in clear and can be read or
#   altered on the way. Every cache behavior (the default one and each ordered one) must use
#   "redirect-to-https" or "https-only".
# custom:
#   id: aws-cloudfront-https
#   level: error
#   resource_types: [aws_cloudfront_distribution]
#   remediation: Set `viewer_protocol_policy = "redirect-to-https"` (or `"https-only"`) in `default_cache_behavior` and in every `ordered_cache_behavior` block.
#   checkov: [CKV_AWS_34]
#   trivy: [AVD-AWS-0012]
package planguard.encryption.cloudfront_https

import data.planguard.lib
import rego.v1

# Distributions with a planned value to read (some generated plans carry `after: null`).
distributions contains rc if {
	some rc in lib.changes("aws_cloudfront_distribution")
	is_object(planguard.after(rc))
}

secure_policies := {"redirect-to-https", "https-only"}

# Every cache behavior with its path in the planned value and a name for messages.
behaviors(rc) := array.concat(
	[[["default_cache_behavior", i], b, "default cache behavior"] |
		some i, b in planguard.value(rc, ["default_cache_behavior"], [])
	],
	[[["ordered_cache_behavior", i], b, sprintf("ordered cache behavior %q", [object.get(b, "path_pattern", i)])] |
		some i, b in planguard.value(rc, ["ordered_cache_behavior"], [])
	],
)

deny contains lib.result(rc, msg) if {
	some rc in distributions
	some [path, behavior, name] in behaviors(rc)
	not planguard.unknown(rc, array.concat(path, ["viewer_protocol_policy"]))
	policy := object.get(behavior, "viewer_protocol_policy", null)
	is_string(policy)
	not policy in secure_policies
	msg := sprintf("%s: %s allows plain HTTP (viewer_protocol_policy = %q)", [rc.address, name, policy])
}

warn contains lib.unknown_result(rc, sprintf("the %s's viewer_protocol_policy", [name])) if {
	some rc in distributions
	some [path, _, name] in behaviors(rc)
	planguard.unknown(rc, array.concat(path, ["viewer_protocol_policy"]))
}

warn contains lib.unknown_result(rc, sprintf("`%s`", [attr])) if {
	some rc in distributions
	some attr in ["default_cache_behavior", "ordered_cache_behavior"]
	planguard.unknown(rc, [attr])
}

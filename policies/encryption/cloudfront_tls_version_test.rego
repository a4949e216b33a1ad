package planguard.encryption.cloudfront_tls_version_test

import data.planguard.encryption.cloudfront_tls_version as policy
import rego.v1

distribution(cert, unknown) := {"resource_changes": [{
	"address": "aws_cloudfront_distribution.site",
	"type": "aws_cloudfront_distribution",
	"name": "site",
	"mode": "managed",
	"change": {"actions": ["create"], "before": null, "after": {"enabled": true, "viewer_certificate": [cert]}, "after_unknown": unknown},
}]}

acm(version) := {
	"acm_certificate_arn": "arn:aws:acm:us-east-1:111122223333:certificate/0a1b2c3d",
	"cloudfront_default_certificate": false,
	"minimum_protocol_version": version,
	"ssl_support_method": "sni-only",
}

test_modern_versions_pass if {
	every version in ["TLSv1.2_2018", "TLSv1.2_2019", "TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025"] {
		count(policy.deny) == 0 with input as distribution(acm(version), {})
	}
}

test_old_versions_are_denied if {
	every version in ["SSLv3", "TLSv1", "TLSv1_2016", "TLSv1.1_2016"] {
		some r in policy.deny with input as distribution(acm(version), {})
		contains(r.msg, sprintf("minimum_protocol_version %q allows TLS older than 1.2", [version]))
	}
}

test_default_certificate_is_denied if {
	cert := {"cloudfront_default_certificate": true, "minimum_protocol_version": "TLSv1", "acm_certificate_arn": null}
	some r in policy.deny with input as distribution(cert, {})
	contains(r.msg, "default *.cloudfront.net certificate")
	count(policy.deny) == 1 with input as distribution(cert, {})
}

test_default_certificate_is_denied_whatever_the_version if {
	cert := {"cloudfront_default_certificate": true, "minimum_protocol_version": "TLSv1.2_2021"}
	count(policy.deny) == 1 with input as distribution(cert, {})
}

test_unset_version_is_denied if {
	some r in policy.deny with input as distribution(acm(null), {})
	contains(r.msg, "minimum_protocol_version is not set")
}

test_unknown_version_warns if {
	inp := distribution(acm(null), {"viewer_certificate": [{"minimum_protocol_version": true}]})
	count(policy.deny) == 0 with input as inp
	some r in policy.warn with input as inp
	contains(r.msg, "minimum_protocol_version` is unknown until apply")
}

test_unknown_default_certificate_flag_warns if {
	cert := object.union(acm("TLSv1.2_2021"), {"cloudfront_default_certificate": null})
	inp := distribution(cert, {"viewer_certificate": [{"cloudfront_default_certificate": true}]})
	count(policy.deny) == 0 with input as inp
	count(policy.warn) == 1 with input as inp
}

test_unknown_certificate_block_warns if {
	inp := {"resource_changes": [{
		"address": "aws_cloudfront_distribution.site", "type": "aws_cloudfront_distribution", "name": "site", "mode": "managed",
		"change": {"actions": ["create"], "after": {"enabled": true}, "after_unknown": {"viewer_certificate": true}},
	}]}
	count(policy.deny) == 0 with input as inp
	count(policy.warn) == 1 with input as inp
}

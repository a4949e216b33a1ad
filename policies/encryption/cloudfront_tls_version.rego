# METADATA
# title: CloudFront distributions require TLS 1.2 or newer from viewers
# description: |
#   The viewer certificate's `minimum_protocol_version` is the oldest TLS version CloudFront
#   accepts from clients; TLSv1, TLSv1_2016 and TLSv1.1_2016 still allow TLS 1.0/1.1, and an
#   unset value means TLSv1. A distribution that uses the default *.cloudfront.net certificate
#   (`cloudfront_default_certificate = true`) always accepts TLSv1, whatever
#   minimum_protocol_version says, so it is a finding too: serving it on your own domain with an
#   ACM certificate is the only way to raise the minimum. Accepted: TLSv1.2_2018, TLSv1.2_2019,
#   TLSv1.2_2021 and newer (TLSv1.2_* and TLSv1.3_*).
# custom:
#   id: aws-cloudfront-tls-version
#   level: error
#   resource_types: [aws_cloudfront_distribution]
#   remediation: In `viewer_certificate`, use your own certificate (`acm_certificate_arn` with `ssl_support_method = "sni-only"`, together with `aliases`) instead of `cloudfront_default_certificate = true`, and set `minimum_protocol_version = "TLSv1.2_2021"`.
#   checkov: [CKV_AWS_174]
#   trivy: [AVD-AWS-0013]
package planguard.encryption.cloudfront_tls_version

import data.planguard.lib
import rego.v1

# Distributions with a planned value to read (some generated plans carry `after: null`).
distributions contains rc if {
	some rc in lib.changes("aws_cloudfront_distribution")
	is_object(planguard.after(rc))
}

modern(version) if regex.match(`^TLSv1\.[23]_`, version)

certificates(rc) := [[i, c] | some i, c in planguard.value(rc, ["viewer_certificate"], []); is_object(c)]

deny contains lib.result(rc, msg) if {
	some rc in distributions
	some [i, cert] in certificates(rc)
	not planguard.unknown(rc, ["viewer_certificate", i, "cloudfront_default_certificate"])
	object.get(cert, "cloudfront_default_certificate", false) == true
	msg := sprintf("%s: uses the default *.cloudfront.net certificate (cloudfront_default_certificate = true), with which CloudFront accepts TLSv1 whatever minimum_protocol_version says", [rc.address])
}

deny contains lib.result(rc, msg) if {
	some rc in distributions
	some [i, cert] in certificates(rc)
	not planguard.unknown(rc, ["viewer_certificate", i, "cloudfront_default_certificate"])
	object.get(cert, "cloudfront_default_certificate", false) != true
	not planguard.unknown(rc, ["viewer_certificate", i, "minimum_protocol_version"])
	version := object.get(cert, "minimum_protocol_version", null)
	not modern_or_null(version)
	msg := sprintf("%s: viewer_certificate minimum_protocol_version %q allows TLS older than 1.2", [rc.address, version])
}

deny contains lib.result(rc, msg) if {
	some rc in distributions
	some [i, cert] in certificates(rc)
	not planguard.unknown(rc, ["viewer_certificate", i, "cloudfront_default_certificate"])
	object.get(cert, "cloudfront_default_certificate", false) != true
	not planguard.unknown(rc, ["viewer_certificate", i, "minimum_protocol_version"])
	object.get(cert, "minimum_protocol_version", null) in {null, ""}
	msg := sprintf("%s: viewer_certificate minimum_protocol_version is not set, so CloudFront accepts TLSv1", [rc.address])
}

modern_or_null(version) if version in {null, ""}

modern_or_null(version) if {
	is_string(version)
	modern(version)
}

warn contains lib.unknown_result(rc, "`viewer_certificate.cloudfront_default_certificate`") if {
	some rc in distributions
	some [i, _] in certificates(rc)
	planguard.unknown(rc, ["viewer_certificate", i, "cloudfront_default_certificate"])
}

warn contains lib.unknown_result(rc, "`viewer_certificate.minimum_protocol_version`") if {
	some rc in distributions
	some [i, cert] in certificates(rc)
	object.get(cert, "cloudfront_default_certificate", false) != true
	planguard.unknown(rc, ["viewer_certificate", i, "minimum_protocol_version"])
}

warn contains lib.unknown_result(rc, "`viewer_certificate`") if {
	some rc in distributions
	planguard.unknown(rc, ["viewer_certificate"])
}

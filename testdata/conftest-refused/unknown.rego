package certs

import rego.v1

deny contains "expired" if {
	certs := crypto.x509.parse_certificates(input.cert)
	certs[0].NotAfter < time.now_ns()
}

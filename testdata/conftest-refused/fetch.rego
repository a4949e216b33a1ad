package fetch

import rego.v1

deny contains "registry says no" if {
	resp := http.send({"method": "GET", "url": "https://registry.example.com/allowed"})
	resp.status_code != 200
}

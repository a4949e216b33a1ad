package huge_urlquery

import rego.v1

# A million references to one 1 MB string encoded as query values: the query grew towards
# 3 TB, checked only once per value (17 s and 3.2 GB before the 2 GiB limit stopped it).
deny contains "never" if {
	s := sprintf("%1000000s", [""])
	count(urlquery.encode_object({"a": [s | some _ in numbers.range(1, 1000000)]})) > 0
}

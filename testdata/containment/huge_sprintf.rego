package huge_sprintf

import rego.v1

# A million references to one 1 MB string formatted with %v: the text grew towards 1 TB
# (13 GB resident after two minutes, the time limit not applying).
deny contains "never" if {
	s := sprintf("%1000000s", [""])
	count(sprintf("%v", [[s | some _ in numbers.range(1, 1000000)]])) > 0
}

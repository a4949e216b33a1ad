package huge_concat

import rego.v1

# A million references to one 1 MB string joined: a 1 TB allocation aborted the process.
deny contains "never" if {
	s := sprintf("%1000000s", [""])
	count(concat("", [s | some _ in numbers.range(1, 1000000)])) > 0
}

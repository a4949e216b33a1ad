package huge_print

import rego.v1

# print of a million references to one 1 MB string: the line grew towards 1 TB.
deny contains "never" if {
	s := sprintf("%1000000s", [""])
	print([s | some _ in numbers.range(1, 1000000)])
}

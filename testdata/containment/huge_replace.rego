package huge_replace

import rego.v1

# Each character of a 1 MB string replaced by the string itself: a 1 TB result, which
# aborted the process when its allocation failed.
deny contains "never" if {
	s := sprintf("%1000000s", [""])
	count(replace(s, " ", s)) > 0
}

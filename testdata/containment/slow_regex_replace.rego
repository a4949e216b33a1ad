package slow_regex_replace

import rego.v1

# 256 million matches rewritten in one call (half a minute).
deny contains "never" if {
	s0 := sprintf("%1000000s", [""])
	s1 := concat("", [s0, s0, s0, s0, s0, s0, s0, s0, s0, s0, s0, s0, s0, s0, s0, s0])
	s2 := concat("", [s1, s1, s1, s1, s1, s1, s1, s1, s1, s1, s1, s1, s1, s1, s1, s1])
	count(regex.replace(s2, " ", "xy")) > 0
}

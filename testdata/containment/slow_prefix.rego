package slow_prefix

import rego.v1

# A million strings against a million prefixes in one call: 10^12 comparisons (hours).
deny contains "never" if {
	nums := trim(json.marshal(numbers.range(1, 1000000)), "[]")
	prefixes := split(concat("", ["a", replace(nums, ",", ",a")]), ",")
	strings.any_prefix_match(split(nums, ","), prefixes)
}

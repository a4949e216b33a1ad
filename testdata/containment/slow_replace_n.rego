package slow_replace_n

import rego.v1

# A million patterns, each scanning a 1 MB string in one call (minutes).
deny contains "never" if {
	nums := trim(json.marshal(numbers.range(1, 1000000)), "[]")
	patterns := json.unmarshal(concat("", ["{\"a", replace(nums, ",", "\":\"b\",\"a"), "\":\"b\"}"]))
	count(strings.replace_n(patterns, sprintf("%1000000s", [""]))) > 0
}

package slow_union_n

import rego.v1

# A million objects merged in one call, the growing result copied at each step (hours).
deny contains "never" if {
	nums := trim(json.marshal(numbers.range(1, 1000000)), "[]")
	objects := json.unmarshal(concat("", ["[{\"a", replace(nums, ",", "\":1},{\"a"), "\":1}]"]))
	count(object.union_n(objects)) > 0
}

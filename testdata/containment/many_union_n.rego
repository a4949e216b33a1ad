package many_union_n

import rego.v1

# A million objects merged in one call: the growing result was copied at each step (hours,
# stopped only by the time limit); it is now merged in place, in one pass.
deny contains sprintf("merged %d keys", [count(object.union_n(objects))]) if {
	nums := trim(json.marshal(numbers.range(1, 1000000)), "[]")
	objects := json.unmarshal(concat("", ["[{\"a", replace(nums, ",", "\":1},{\"a"), "\":1}]"]))
}

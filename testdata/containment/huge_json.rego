package huge_json

import rego.v1

# A million references to one 1 MB string serialized: the output grew towards 1 TB, and a
# failed allocation aborted the process.
deny contains "never" if {
	s := sprintf("%1000000s", [""])
	count(json.marshal([s | some _ in numbers.range(1, 1000000)])) > 0
}

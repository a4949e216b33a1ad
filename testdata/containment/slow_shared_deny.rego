package main

import rego.v1

# One `deny` rule of three definitions, so planguard shares it out among its threads: the
# second runs until the time limit. The rule used to be evaluated again after failing (alone,
# then whole after its share failed), so the failure came after two to four times the limit.
deny contains sprintf("%s is changing", [rc.address]) if {
	some rc in input.resource_changes
}

deny contains "never" if {
	some i in numbers.range(1, 100000)
	some j in numbers.range(1, 100000)
	i * j == -1
}

deny contains "always" if true

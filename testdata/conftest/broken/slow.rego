package slow

import rego.v1

# Ten billion iterations: only the time limit ends this.
deny contains "never" if {
	some i in numbers.range(1, 100000)
	some j in numbers.range(1, 100000)
	i * j == -1
}

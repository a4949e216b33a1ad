package memory_hog

import rego.v1

# Ten million pairs, built one at a time: far past a 64 MiB limit.
deny contains "hog" if {
	count([[x, y] | some x in numbers.range(1, 1000); some y in numbers.range(1, 10000)]) > 0
}

package huge_range

import rego.v1

# 2^63 elements: the capacity computation overflowed (a panic).
deny contains "never" if count(numbers.range(0, 9223372036854775807)) > 0

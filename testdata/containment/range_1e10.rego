package range_1e10

import rego.v1

# 1e10 elements: the allocation aborted the process.
deny contains "never" if count(numbers.range(1, 1e10)) > 0

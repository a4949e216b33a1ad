package nested_literals

import rego.v1

# Collections nested 26 deep: each level was parsed twice (2^26 parses at load).
a := [[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]

s := {{{{{{{{{{{{{{{{{{{{{{{{{{1}}}}}}}}}}}}}}}}}}}}}}}}}}

deny contains "nested literals load" if {
	a
	s
}

package doubled_compare

import rego.v1

double(x) := [x, x]

doubled(x) := double(double(double(double(double(double(double(double(double(double(x))))))))))

# Two values of 2^40 elements each, built apart by doubling: a few KB in memory, but comparing
# them visits every element (hours), inside one step of the evaluation.
deny contains "never" if {
	doubled(doubled(doubled(doubled(["a"])))) == doubled(doubled(doubled(doubled(["a"]))))
}

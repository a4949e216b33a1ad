package mutual

import rego.v1

# f and g call each other.
f(x) := g(x)

g(x) := f(x)

deny contains "never" if f(1)

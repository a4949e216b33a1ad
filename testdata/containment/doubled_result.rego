package doubled_result

import rego.v1

double(x) := [x, x]

doubled(x) := double(double(double(double(double(double(double(double(double(double(x))))))))))

# A finding whose metadata is a value of 2^40 elements: its JSON would be terabytes.
deny contains {"msg": "a doubled value", "value": doubled(doubled(doubled(doubled(["a"]))))}

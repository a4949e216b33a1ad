package slow_subset

import rego.v1

# Every window of a million-element array compared with a 500,000-element one that only
# differs at its end: 2.5 * 10^11 comparisons in one call (hours).
deny contains "never" if {
	sub := array.concat(split(sprintf("%500000s", [""]), ""), ["x"])
	object.subset(split(sprintf("%1000000s", [""]), ""), sub)
}

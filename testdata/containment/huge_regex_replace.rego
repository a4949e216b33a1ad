package huge_regex_replace

import rego.v1

# Each of a million spaces replaced by a 1 MB string: the result grew towards 1 TB, checked
# once per thousand matches (15 s and 5 GB before the 2 GiB limit stopped it).
deny contains "never" if {
	s := sprintf("%1000000s", [""])
	count(regex.replace(s, " ", s)) > 0
}

# strings.replace_n replaces its patterns all at once, as Go's strings.NewReplacer does:
# a replacement is not matched again, and at one position the first key (in order) wins.
package main

import rego.v1

deny contains sprintf("%v", [[
	strings.replace_n({"a": "bb", "b": "c"}, "ab"),
	strings.replace_n({"ab": "1", "a": "2"}, "abac"),
	strings.replace_n({"": "-"}, "ab"),
	strings.replace_n({"": "-", "a": "X"}, "ab"),
	strings.replace_n({"é": "e", "ca": "K"}, "café"),
	strings.replace_n({"a": "aa"}, "aaa"),
	strings.replace_n({"f": "x", "foo": "xxx"}, "foo"),
	strings.replace_n({}, "unchanged"),
	strings.replace_n({"x": ""}, "xaxbx"),
	strings.replace_n({"": "-"}, ""),
]])


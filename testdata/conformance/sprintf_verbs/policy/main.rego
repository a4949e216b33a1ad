package main

import rego.v1

rc := input.resource_changes[0]

# Go's fmt: extra arguments, missing ones and wrong types are written into the text.
deny contains sprintf("%s changed", [rc.address, rc.type])
deny contains sprintf("%s and %s", [rc.address])
deny contains sprintf("%d", ["text"])
deny contains sprintf("%s %d %v", [rc.type, 3, {"a": [1, true, null]}])
deny contains sprintf("%v|%v|%v", [1.5, "s", ["x", 2]])
deny contains sprintf("%q %x %5d|%-5s|%05.2f", ["quoted", 255, 42, "ab", 3.14159])
deny contains sprintf("100%% %s", ["done"])
deny contains sprintf("%s", [null])
deny contains sprintf("%v %d %x", [12345678901234567890, -7, 12345678901234567890])
deny contains sprintf("%5.2f|%-8d|% d|%#x|%X|%e|%g|%v|%+.1e", [3.14159, 42, 7, 255, "hi", 123456.789, 0.00001234, 1234567.5, -0.5])
deny contains sprintf("%.3s|%10.4v|%05s|%c|%U|%b|%O|%.0d|%T|%T|%5%|%q", ["abcdef", "abcdef", "ab", 65, 65, 5, 8, 0, 1.5, "x", 66])
deny contains sprintf("%s", [{"k": "v"}])
deny contains sprintf("%t %t", [true, "x"])
deny contains sprintf("%s %s %s", [1, 2.5, true])

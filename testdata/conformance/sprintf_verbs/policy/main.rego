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
deny contains sprintf("%v %v", [1e21, 12345678901234567890])
deny contains sprintf("%s", [{"k": "v"}])
deny contains sprintf("%t %t", [true, "x"])
deny contains sprintf("%s %s %s", [1, 2.5, true])

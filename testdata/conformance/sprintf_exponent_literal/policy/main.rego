package main

import rego.v1

# OPA hands Go a number literal in exponent form past int64 as its text.
deny contains sprintf("%v %v", [1e21, 12345678901234567890])

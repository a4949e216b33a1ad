package main

import rego.v1

# Some libraries name their tests *.test.rego; they are not evaluated either.
warn contains "from helpers.test.rego" if true

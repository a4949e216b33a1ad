package main

import rego.v1

# A test file: conftest does not evaluate it, so this rule must not report.
deny contains "from main_test.rego" if true

test_public if is_public({"change": {"after": {"acl": "public-read"}}})

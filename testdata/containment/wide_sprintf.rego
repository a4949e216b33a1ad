package wide_sprintf

import rego.v1

# A 1 GB string, written into the report.
deny contains msg if msg := sprintf("%999999999d", [1])

package fugue

import rego.v1

plan := input

resources(t) := [r | some r in plan.resource_changes; r.type == t]

package fugue.resource_view

import data.fugue
import rego.v1

by_type[t] := {rc.address: rc | some rc in fugue.plan.resource_changes; rc.type == t} if {
	some rc0 in fugue.plan.resource_changes
	t := rc0.type
}

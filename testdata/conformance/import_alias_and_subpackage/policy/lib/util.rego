package lib.util

import rego.v1

addresses(t) := {rc.address | some rc in input.resource_changes; rc.type == t}

package fugue

import rego.v1

resources_list contains r if {
  rc := input.resource_changes[_]
  r := {"id": rc.address, "_type": rc.type, "tags": tags_of(rc)}
}

tags_of(rc) := t if {
  t := rc.change.after.tags
  t != null
} else := {}

resource_types := {rt |
  r = resources_list[_]
  rt = r._type
}

resources_by_type := {rt: rs |
  resource_types[rt]
  rs = {ri: r |
    r = resources_list[_]
    ri = r.id
    r._type == rt
  }
}

resources(rt) := ret if {
  ret = resources_by_type[rt]
} else := {}

allow_resource(resource) := ret if {
  ret := {"valid": true, "id": resource.id}
}

reject_resource(resource) := ret if {
  ret := {"valid": false, "id": resource.id}
}

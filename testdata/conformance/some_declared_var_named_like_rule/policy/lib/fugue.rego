# A fugue-like library in Rego v0: resources grouped by type with nested comprehensions, and a
# lookup with an `else = {} { true }` fallback.
package fugue

resources_list[r] {
  rc := input.resource_changes[_]
  r := {"id": rc.address, "_type": rc.type, "tags": tags_of(rc)}
}

tags_of(rc) = t {
  t := rc.change.after.tags
  t != null
} else = {} {
  true
}

resource_types = {rt |
  r = resources_list[_]
  rt = r._type
}

resources_by_type = {rt: rs |
  resource_types[rt]
  rs = {ri: r |
    r = resources_list[_]
    ri = r.id
    r._type == rt
  }
}

resources(rt) = ret {
  ret = resources_by_type[rt]
} else = {} {
  true
}

allow_resource(resource) = ret {
  ret := {"valid": true, "id": resource.id}
}

reject_resource(resource) = ret {
  ret := {"valid": false, "id": resource.id}
}

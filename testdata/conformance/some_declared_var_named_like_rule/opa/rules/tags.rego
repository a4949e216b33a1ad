package rules.tags

import data.fugue
import rego.v1

resource_type := "MULTIPLE"

taggable_resource_types := {
  "aws_s3_bucket",
  "aws_instance",
  "aws_db_instance",
}

taggable_resources[id] := resource if {
  some resource_type
  taggable_resource_types[resource_type]
  resources = fugue.resources(resource_type)
  resource = resources[id]
}

taggable_list := [r | some t; taggable_resource_types[t]; r := fugue.resources(t)[_]]

is_properly_tagged(resource) if {
  resource.tags.Owner
}

policy contains r if {
  resource = taggable_resources[_]
  is_properly_tagged(resource)
  r = fugue.allow_resource(resource)
}

policy contains r if {
  resource = taggable_resources[_]
  not is_properly_tagged(resource)
  r = fugue.reject_resource(resource)
}

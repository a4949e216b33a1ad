# Cause 10 of issue 11, reduced from a fugue/regula-style library: `some resource_type` declares a
# local, while the package also has a rule `resource_type`. Written for this suite.
package rules.tags

import data.fugue

resource_type = "MULTIPLE"

taggable_resource_types = {
  "aws_s3_bucket",
  "aws_instance",
  "aws_db_instance",
}

taggable_resources[id] = resource {
  some resource_type
  taggable_resource_types[resource_type]
  resources = fugue.resources(resource_type)
  resource = resources[id]
}

taggable_list = [r | some t; taggable_resource_types[t]; r := fugue.resources(t)[_]]

is_properly_tagged(resource) {
  resource.tags.Owner
}

policy[r] {
  resource = taggable_resources[_]
  is_properly_tagged(resource)
  r = fugue.allow_resource(resource)
} {
  resource = taggable_resources[_]
  not is_properly_tagged(resource)
  r = fugue.reject_resource(resource)
}

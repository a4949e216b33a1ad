# A library laid out like fugue's regula: package fugue with sub-packages below it, each
# importing the other.
package fugue

import data.fugue.resource_view
import rego.v1

plan := input

resources(resource_type) := resource_view.by_type[resource_type]

allow_resource(resource) := {"valid": true, "id": resource.address}

reject_resource(resource) := {"valid": false, "id": resource.address}

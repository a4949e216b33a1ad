# METADATA
# title: Stacks do not read other stacks' state with terraform_remote_state
# description: |
#   A `terraform_remote_state` data source couples this stack to another stack's backend, state
#   layout and outputs: it needs read access to the whole state file (secrets included), breaks
#   when the other stack renames an output or moves its state, and hides the dependency from
#   anyone reading the other stack. Layers are linked through provider data sources and tags
#   instead, e.g. `data "aws_vpc"` filtered by tags, which read the live infrastructure.
#   The policy reads the configuration of every module, so a remote state read inside a
#   module is found too.
# custom:
#   id: aws-no-remote-state
#   level: error
#   scope: configuration
#   resource_types: [terraform_remote_state]
#   remediation: Replace the `terraform_remote_state` data source with data sources that look the resources up by tags or names (for example `data "aws_vpc"` with a `tags` filter, `data "aws_subnets"` with `filter`, `data "aws_ssm_parameter"` for values the other stack publishes), and tag the resources in the producing stack accordingly.
package planguard.safety.no_remote_state

import rego.v1

deny contains {"msg": msg, "address": address} if {
	walk(input.configuration.root_module, [path, block])
	count(path) >= 2
	path[count(path) - 2] == "resources"
	block.mode == "data"
	block.type == "terraform_remote_state"
	address := concat("", array.concat([sprintf("module.%s.", [name]) | some name in module_names(path)], [block.address]))
	msg := sprintf(
		"%s: reads another stack's state through `terraform_remote_state`; layers must be linked through data sources and tags instead (e.g. `data \"aws_vpc\"` filtered by tags), not through each other's state",
		[address],
	)
}

# Module call names along a configuration path, outermost first.
module_names(path) := [name | some i, name in path; i > 0; path[i - 1] == "module_calls"]

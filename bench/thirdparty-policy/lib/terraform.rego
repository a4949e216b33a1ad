# Shared helpers, in the style of public conftest Terraform libraries: helper *rules* (not
# functions) that every policy package reads, so an engine that does not share rule values
# between queries evaluates them again for each rule.
package lib.terraform

import rego.v1

# Changes that create or update a managed resource.
changes contains rc if {
	some rc in input.resource_changes
	rc.mode == "managed"
	is_object(rc.change.after)
	some action in rc.change.actions
	action in {"create", "update"}
}

# The changes of each type.
by_type[kind] contains rc if {
	some rc in changes
	kind := rc.type
}

# Configuration blocks of the root module, by address.
config[block.address] := block if {
	some block in input.configuration.root_module.resources
}

# The provider's default tags.
default_tags := t if {
	some block in input.configuration.provider_config.aws.expressions.default_tags
	t := block.tags.constant_value
} else := {}

# The tags a change will carry (tags_all when known, else tags over default_tags).
effective_tags(rc) := t if {
	t := rc.change.after.tags_all
	is_object(t)
} else := object.union(default_tags, t) if {
	t := rc.change.after.tags
	is_object(t)
} else := default_tags

required_tags := {"Owner", "CostCenter", "Environment"}

# Security group rules opening ingress to the world, as [change, from, to].
world_ingress contains [rc, rule.from_port, rule.to_port] if {
	some rc in by_type.aws_security_group
	some rule in object.get(rc.change.after, "ingress", [])
	"0.0.0.0/0" in object.get(rule, "cidr_blocks", [])
}

world_ingress contains [rc, r.from_port, r.to_port] if {
	some rc in by_type.aws_security_group_rule
	r := rc.change.after
	r.type == "ingress"
	"0.0.0.0/0" in object.get(r, "cidr_blocks", [])
}

# Bucket names that have a server-side encryption configuration resource.
encrypted_buckets contains name if {
	some rc in by_type.aws_s3_bucket_server_side_encryption_configuration
	name := rc.change.after.bucket
}

# IAM policy statements, with the change they come from.
iam_statements contains [rc, statement] if {
	some kind in ["aws_iam_policy", "aws_iam_role_policy"]
	some rc in by_type[kind]
	doc := json.unmarshal(rc.change.after.policy)
	some statement in as_array(doc.Statement)
}

as_array(x) := x if is_array(x)

else := [x]

port_in(port, from, to) if {
	from <= port
	port <= to
}

msg(rc, text) := sprintf("%s: %s", [rc.address, text])

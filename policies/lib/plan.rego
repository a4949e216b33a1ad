# Shared helpers for the planguard policy library.
#
# Every library policy reads the plan through these helpers, so that "which changes count",
# "is this value known yet" and "which configuration block made this resource" are answered
# the same way everywhere.
package planguard.lib

import rego.v1

# --- Which changes a policy looks at -------------------------------------------------------

# Changes that produce a new or modified object: create, update and both replace orders.
# Unchanged resources (no-op) are included only when data.planguard.config.check_unchanged
# is true, so a PR is judged on what it changes.
changes(kind) := [rc |
	some rc in input.resource_changes
	rc.type == kind
	rc.mode == "managed"
	produces_object(rc)
]

produces_object(rc) if {
	some action in rc.change.actions
	action in {"create", "update"}
}

produces_object(rc) if {
	rc.change.actions == ["no-op"]
	config("check_unchanged", false) == true
}

# Changes that destroy an existing object: delete, and both replace orders.
destroys(rc) if "delete" in rc.change.actions

is_replace(rc) if {
	"delete" in rc.change.actions
	"create" in rc.change.actions
}

# --- Values and unknowns -------------------------------------------------------------------

after(rc) := object.get(rc.change, "after", {})

# The planned value at a path (a list of keys/indices), or `default_value` when absent/null.
value(rc, path, default_value) := v if {
	v := object.get(after(rc), path, null)
	v != null
} else := default_value

# True when the attribute at `path` is unknown until apply.
unknown(rc, path) if object.get(object.get(rc.change, "after_unknown", {}), path, false) == true

unknown(rc, _) if rc.change.after_unknown == true

# A finding about a resource change, in the shape the engine reads.
result(rc, msg) := {"msg": msg, "address": rc.address}

# The standard warning for a value the plan cannot show yet.
unknown_result(rc, what) := result(rc, sprintf("%s: %s is unknown until apply, so it cannot be verified before apply", [rc.address, what]))

# --- Configuration ---------------------------------------------------------------------------

# Library settings from data.planguard.config, with defaults.
config(key, default_value) := object.get(data, ["planguard", "config", key], default_value)

# The stack context the server passes (name, account_id, environment).
stack(key) := object.get(data, ["planguard", "stack", key], null)

# Module call names of a change, e.g. "module.vpc[0].module.subnets" -> ["vpc", "subnets"].
module_path(rc) := [] if {
	not rc.module_address
} else := [name |
	parts := split(regex.replace(rc.module_address, `\[[^\]]*\]`, ""), ".")
	some i, name in parts
	i % 2 == 1
]

# Every configuration resource block, keyed by module path and address.
config_blocks[key] := block if {
	walk(input.configuration.root_module, [path, block])
	count(path) >= 2
	path[count(path) - 2] == "resources"
	key := block_key(path, block.address)
}

block_key(path, address) := concat("/", array.concat(
	[name | some i, name in path; i > 0; path[i - 1] == "module_calls"],
	[address],
))

# The configuration block that declares a change's resource.
config_block(rc) := config_blocks[key] if {
	key := concat("/", array.concat(module_path(rc), [sprintf("%s.%s", [rc.type, rc.name])]))
}

# The references an attribute's expression makes, e.g. ["aws_s3_bucket.logs.id", "aws_s3_bucket.logs"].
references(rc, attr) := refs if {
	refs := config_block(rc).expressions[attr].references
} else := []

# The configuration address of a change within its module: "aws_s3_bucket.logs".
config_address(rc) := sprintf("%s.%s", [rc.type, rc.name])

# True when `rc` (e.g. a bucket) is the target of `other`'s `attr` expression (e.g. the
# `bucket` argument of an encryption configuration) in the same module: by reference when
# the configuration has one, which works even when the target's id is unknown until apply,
# or by equal known values.
links_to(other, attr, rc, rc_attr) if {
	module_path(other) == module_path(rc)
	some ref in references(other, attr)
	startswith(ref, config_address(rc))
	rest := substring(ref, count(config_address(rc)), -1)
	rest in {"", ".id", ".arn", ".bucket", sprintf(".%s", [rc_attr])}
}

links_to(other, attr, rc, rc_attr) if {
	v := value(other, [attr], null)
	v != null
	v == value(rc, [rc_attr], "")
}

# --- Provider configuration ------------------------------------------------------------------

# The AWS provider configuration blocks (the default one and aliases).
aws_providers[key] := p if {
	some key, p in object.get(input, ["configuration", "provider_config"], {})
	p.name == "aws"
}

# A provider expression's constant value, or null.
provider_constant(p, attr) := object.get(p, ["expressions", attr, "constant_value"], null)

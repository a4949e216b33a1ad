# Shared helpers for the planguard policy library.
#
# Every library policy reads the plan through these helpers, so that "which changes count",
# "is this value known yet" and "which configuration block made this resource" are answered
# the same way everywhere. Where a helper only calls a `planguard.*` builtin (value, unknown,
# after, module_path, config_block), the library's policies call the builtin itself: each
# Rego function call costs regorus about a microsecond, per change and per use, and the
# wrappers made a tenth of the library's evaluation time on a plan of 100,000 resources.
# The wrappers stay for policies of your own.
package planguard.lib

import rego.v1

# --- Which changes a policy looks at -------------------------------------------------------

# Changes that produce a new or modified object: create, update and both replace orders.
# Unchanged resources (no-op) are included only when data.planguard.config.check_unchanged
# is true, so a PR is judged on what it changes.
#
# Built in (planguard.changes) because every policy runs it for every change; it is exactly
# [rc | some rc in input.resource_changes; rc.type == kind; rc.mode == "managed"; produces_object(rc)].
changes(kind) := planguard.changes(input.resource_changes, kind, config("check_unchanged", false))

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

# The planned value of a change: rc.change.after when it is an object, else {}.
# (The helpers in this section are planguard builtins, specified in src/policy/native.rs.)
after(rc) := planguard.after(rc)

# The planned value at a path (a list of keys/indices), or `default_value` when absent/null.
# (object.get(after(rc), path, null), unless that is null.)
value(rc, path, default_value) := planguard.value(rc, path, default_value)

# True when the attribute at `path` is unknown until apply (its after_unknown marker is true),
# or the whole change is (after_unknown is true).
unknown(rc, path) if planguard.unknown(rc, path)

# A finding about a resource change, in the shape the engine reads.
result(rc, msg) := {"msg": msg, "address": rc.address}

# The standard warning for a value the plan cannot show yet.
unknown_result(rc, what) := result(rc, sprintf("%s: %s is unknown until apply, so it cannot be verified before apply", [rc.address, what]))

# --- Configuration ---------------------------------------------------------------------------

# Library settings from data.planguard.config, with defaults.
config(key, default_value) := v if {
	v := data.planguard.config[key]
} else := default_value

# The stack context the server passes (name, account_id, environment).
stack(key) := v if {
	v := data.planguard.stack[key]
} else := null

# Module call names of a change, e.g. "module.vpc[0].module.subnets" -> ["vpc", "subnets"].
# Each part of module_address without its `[index]` and `module.` prefix; [] at the root.
module_path(rc) := planguard.module_path(rc)

# The configuration block that declares a change's resource: the block with the change's
# address in the module its module path names (modules nested up to four deep, which covers
# real configurations). A planguard builtin that indexes the blocks once per configuration.
config_block(rc) := planguard.config_block(root_module, rc)

# The plan's configuration.root_module, or {} when the plan has none: the first argument of
# planguard.config_block, for callers that call it directly.
root_module := object.get(input, ["configuration", "root_module"], {})

# The references an attribute's expression makes, e.g. ["aws_s3_bucket.logs.id", "aws_s3_bucket.logs"].
references(rc, attr) := refs if {
	refs := config_block(rc).expressions[attr].references
} else := []

# The configuration address of a change within its module: "aws_s3_bucket.logs".
config_address(rc) := sprintf("%s.%s", [rc.type, rc.name])

# --- Links between resources ------------------------------------------------------------

# The set of keys naming what the changes of type `kind` point at through `attr` (e.g. the
# buckets that public access blocks name in `bucket`): "<module path>/<type.name>" for each
# configuration reference, and "=<value>" for each known value. Build it once per policy
# (assign it to a rule) and test each candidate with `targeted`: that is linear, where
# testing every pair with `links_to` is quadratic.
targets(kind, attr) := {key |
	some other in input.resource_changes
	other.type == kind
	not other.change.actions == ["delete"]
	some key in target_keys(other, attr)
}

target_keys(other, attr) := {key |
	some ref in references(other, attr)
	parts := split(regex.replace(ref, `\[[^\]]*\]`, ""), ".")
	count(parts) >= 2
	key := concat("/", array.concat(module_path(other), [concat(".", array.slice(parts, 0, 2))]))
} | {key |
	v := value(other, [attr], null)
	is_string(v)
	key := concat("", ["=", v])
}

# True when `rc` is among `keys` (from `targets`): by reference, or by the known value of its
# attribute `rc_attr` (e.g. the bucket name).
targeted(rc, keys, _) if concat("/", array.concat(module_path(rc), [config_address(rc)])) in keys

targeted(rc, keys, rc_attr) if {
	v := value(rc, [rc_attr], null)
	is_string(v)
	concat("", ["=", v]) in keys
}

# True when `rc` (e.g. a bucket) is the target of `other`'s `attr` expression (e.g. the
# `bucket` argument of an encryption configuration) in the same module: by reference when
# the configuration has one, which works even when the target's id is unknown until apply,
# or by equal known values. A planguard builtin: in the same module, a reference in
# references(other, attr) that is config_address(rc) or its `.id`, `.arn`, `.bucket` or
# `.<rc_attr>`; or value(other, [attr], null) is not null and equals value(rc, [rc_attr], "").
links_to(other, attr, rc, rc_attr) if planguard.links_to(object.get(input, ["configuration", "root_module"], {}), other, attr, rc, rc_attr)

# --- Provider configuration ------------------------------------------------------------------

# The AWS provider configuration blocks (the default one and aliases).
aws_providers[key] := p if {
	some key, p in object.get(input, ["configuration", "provider_config"], {})
	p.name == "aws"
}

# A provider expression's constant value, or null.
provider_constant(p, attr) := object.get(p, ["expressions", attr, "constant_value"], null)

# Helpers shared by the public-exposure policies: provider defaults, resource policy documents,
# CIDRs and ports, and the S3 public access blocks.
package planguard.exposure.helpers

import data.planguard.lib
import rego.v1

# --- Values, defaults and unknowns ----------------------------------------------------------

# A value as a list: arrays stay, null is empty, anything else is a one-element list.
as_array(x) := x if {
	is_array(x)
} else := [] if {
	x == null
} else := [x]

# True when anything at `path` of the planned value is unknown: the value itself or any part of it.
# (planguard.unknown(rc, path), or a `true` marker anywhere inside the array or object of markers
# at `path`: a planguard builtin.)
unknown_within(rc, path) if planguard.unknown_within(rc, path)

# True when the configuration block of `rc` is known and does not set the attribute at `path`
# (e.g. ["publicly_accessible"] or ["vpc_config", 0, "public_access_cidrs"]), so the provider
# default applies. The enclosing nested block must itself be written in the configuration:
# an attribute of a block the configuration does not show (a dynamic block) is not "unset".
unset_in_config(rc, path) if {
	expressions := object.get(planguard.config_block(lib.root_module, rc), "expressions", {})
	parent := object.get(expressions, array.slice(path, 0, count(path) - 1), null)
	is_object(parent)
	not path[count(path) - 1] in object.keys(parent)
}

# True when the value at `path` is unknown until apply and not merely a provider default that
# the plan cannot show: the configuration sets it (from something unknown), or there is no
# configuration to tell.
unknown_setting(rc, path) if {
	planguard.unknown(rc, path)
	not unset_in_config(rc, path)
}

# True when the configuration block of `rc` sets the attribute at `path`.
set_in_config(rc, path) if object.get(object.get(planguard.config_block(lib.root_module, rc), "expressions", {}), path, null) != null

# True when an optional attribute that the provider computes when it is not set (so it is
# unknown on create either way) is unknown because the configuration sets it from something
# unknown. Without configuration there is no evidence that it is set at all.
unknown_configured(rc, path) if {
	planguard.unknown(rc, path)
	set_in_config(rc, path)
}

# True when a boolean setting is true in the plan, or is left unset with a provider default of
# true that the plan shows as unknown.
enabled(rc, path, default_value) if {
	not planguard.unknown(rc, path)
	planguard.value(rc, path, default_value) == true
}

enabled(rc, path, true) if {
	planguard.unknown(rc, path)
	unset_in_config(rc, path)
}

# How a setting got its value, for messages: "publicly_accessible = true", or "publicly_accessible
# is not set and defaults to true" when the configuration leaves it unset.
setting_text(rc, path, value_text) := sprintf("%s is not set and defaults to %s", [path_text(path), value_text]) if {
	unset_in_config(rc, path)
} else := sprintf("%s = %s", [path_text(path), value_text])

path_text(path) := concat(".", [sprintf("%v", [p]) | some p in path; not is_number(p)])

# True for a change that leaves an object in place after apply (not a plain delete),
# including unchanged resources: used for context resources such as public access blocks.
present(rc) if {
	rc.mode == "managed"
	is_object(rc.change.after)
}

# --- Resource policy documents --------------------------------------------------------------

# Condition keys that tie access to an account, organisation, source resource or network, so a
# statement with Principal "*" is no longer open to everyone (compared in lower case).
restricting_keys := {
	"aws:sourcearn", "aws:sourceaccount", "aws:sourceowner", "aws:sourceorgid", "aws:sourceorgpaths",
	"aws:sourcevpc", "aws:sourcevpce", "aws:sourcevpcarn", "aws:sourceip",
	"aws:principalarn", "aws:principalaccount", "aws:principalorgid", "aws:principalorgpaths",
	"aws:userid", "aws:username", "aws:calledvia",
	"kms:calleraccount", "s3:dataaccesspointaccount", "s3:dataaccesspointarn",
	"lambda:functionarn", "ec2:sourceinstancearn",
}

# The statements of a JSON policy document (a string) that allow any principal: Principal "*",
# {"AWS": "*"} or {"AWS": ["*", ...]}, or an Allow with NotPrincipal, with no restricting
# Condition. Empty when the document is not valid JSON.
public_statements(doc) := [s |
	is_string(doc)
	json.is_valid(doc)
	policy := json.unmarshal(doc)
	is_object(policy)
	some s in as_array(object.get(policy, "Statement", []))
	is_object(s)
	s.Effect == "Allow"
	any_principal(s)
	not restricting_condition(s)
]

any_principal(s) if s.Principal == "*"

any_principal(s) if {
	is_object(s.Principal)
	"*" in as_array(object.get(s.Principal, "AWS", []))
}

any_principal(s) if s.NotPrincipal

# A condition restricts when an operator that matches values (not a negated or IfExists one)
# tests a restricting key against values that are not wildcards.
restricting_condition(s) if {
	conditions := object.get(s, "Condition", {})
	is_object(conditions)
	some operator, tests in conditions
	is_string(operator)
	op := lower(operator)
	not contains(op, "not")
	not endswith(op, "ifexists")
	op != "null"
	is_object(tests)
	some key, values in tests
	is_string(key)
	lower(key) in restricting_keys
	vals := as_array(values)
	count(vals) > 0
	every v in vals {
		restricting_value(v)
	}
}

restricting_value(v) if is_number(v)

restricting_value(v) if {
	is_string(v)
	not v in {"", "*"}
	not endswith(v, "/0")
}

# The actions a list of statements grants, for messages.
actions_of(statements) := concat(", ", sort({a |
	some s in statements
	some a in as_array(object.get(s, "Action", object.get(s, "NotAction", "*")))
	is_string(a)
}))

# The finding message for a change whose `attr` holds a public policy document.
public_policy_message(rc, attr, what) := msg if {
	not planguard.unknown(rc, [attr])
	statements := public_statements(planguard.value(rc, [attr], null))
	count(statements) > 0
	msg := sprintf(
		"%s: %s allows %s to any principal (\"*\") without a Condition restricting it to an account, organisation, source or network",
		[rc.address, what, actions_of(statements)],
	)
}

# True when a policy document attribute is unknown until apply. An unset, provider-computed
# policy (the service's default policy) is not: it only grants the owning account.
policy_unknown(rc, attr) if unknown_setting(rc, [attr])

# --- CIDRs and ports -------------------------------------------------------------------------

# A CIDR that covers every address: 0.0.0.0/0, ::/0.
world_cidr(c) if {
	is_string(c)
	endswith(c, "/0")
}

# Ports that may be open to the world, from data.planguard.config.public_ingress_ports.
allowed_ports := {to_number(p) |
	some p in lib.config("public_ingress_ports", [80, 443])
	port_like(p)
}

port_like(p) if is_number(p)

port_like(p) if {
	is_string(p)
	regex.match(`^[0-9]+$`, p)
}

# The port ranges in [from, to] that are not allowed, as [low, high] pairs.
disallowed_ranges(from, to) := [[low, high] |
	inside := sort({p | some p in allowed_ports; p >= from; p <= to})
	bounds := array.concat(array.concat([from - 1], inside), [to + 1])
	some i in numbers.range(0, count(bounds) - 2)
	low := bounds[i] + 1
	high := bounds[i + 1] - 1
	low <= high
]

format_range(r) := sprintf("%d", [r[0]]) if {
	r[0] == r[1]
} else := sprintf("%d-%d", [r[0], r[1]])

format_ranges(ranges) := concat(", ", [format_range(r) | some r in ranges])

allowed_text := "none" if {
	count(allowed_ports) == 0
} else := concat(", ", [sprintf("%d", [p]) | some p in sort(allowed_ports)])

# What a rule with `protocol` and ports [from, to] exposes beyond the allowed ports, as text;
# "" when it exposes nothing else (allowed ports only, or ICMP).
exposed(protocol, from, to) := "all protocols and ports" if {
	lower(sprintf("%v", [protocol])) in {"-1", "all"}
} else := "" if {
	lower(sprintf("%v", [protocol])) in {"icmp", "1", "icmpv6", "58"}
} else := text if {
	proto := port_protocol(protocol)
	is_number(from)
	is_number(to)
	ranges := disallowed_ranges(from, to)
	count(ranges) > 0
	text := sprintf("%s %s %s", [proto, plural(ranges), format_ranges(ranges)])
} else := "" if {
	port_protocol(protocol)
} else := sprintf("every port of IP protocol %v", [protocol])

port_protocol(p) := "tcp" if {
	lower(sprintf("%v", [p])) in {"tcp", "6"}
} else := "udp" if {
	lower(sprintf("%v", [p])) in {"udp", "17"}
}

plural(ranges) := "port" if {
	count(ranges) == 1
	ranges[0][0] == ranges[0][1]
} else := "ports"

# --- S3 public access blocks -----------------------------------------------------------------

pab_flags := ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"]

# True when a public access block sets all four flags to known true values.
pab_full(pab) if {
	every flag in pab_flags {
		not planguard.unknown(pab, [flag])
		planguard.value(pab, [flag], false) == true
	}
}

# Account-level public access blocks that stay in place after this plan.
account_blocks := [rc |
	some rc in input.resource_changes
	rc.type == "aws_s3_account_public_access_block"
	present(rc)
]

# Bucket-level public access blocks that stay in place after this plan.
bucket_blocks := [rc |
	some rc in input.resource_changes
	rc.type == "aws_s3_bucket_public_access_block"
	present(rc)
]

# True when an account-level block in the plan sets all four flags.
account_blocks_all if {
	some a in account_blocks
	pab_full(a)
}

# True when `flag` is known true on an account-level block in the plan.
account_flag(flag) if {
	some a in account_blocks
	not planguard.unknown(a, [flag])
	planguard.value(a, [flag], false) == true
}

# Bucket-level blocks indexed by the resource their `bucket` references (module path included,
# e.g. "vpc/aws_s3_bucket.logs") and by their known bucket name, so that each bucket, policy or
# ACL compares itself with a few candidate blocks rather than with every block in the plan.
blocks_by_ref[key] contains pab if {
	some pab in bucket_blocks
	some ref in lib.references(pab, "bucket")
	key := ref_key(pab, ref)
}

blocks_by_name[name] contains pab if {
	some pab in bucket_blocks
	name := planguard.value(pab, ["bucket"], null)
	is_string(name)
	name != ""
}

# The module path of `rc` and the resource a reference names, without instance keys.
ref_key(rc, ref) := concat("/", array.concat(planguard.module_path(rc), [resource_of(ref)]))

resource_of(ref) := concat(".", array.slice(split(regex.replace(ref, `\[[^\]]*\]`, ""), "."), 0, 2))

# Index lookups that are empty, not undefined, when nothing is indexed under the key.
by_name(v) := {pab | some pab in blocks_by_name[v]}

by_ref(key) := {pab | some pab in blocks_by_ref[key]}

# Candidate blocks for a bucket resource (a block's `bucket` points at it).
bucket_candidates(bucket) := by_ref(ref_key(bucket, lib.config_address(bucket))) | by_name(planguard.value(bucket, ["bucket"], null))

# Candidate blocks for a resource whose `attr` names a bucket (a policy, an ACL).
target_candidates(rc, attr) := {pab |
	some ref in lib.references(rc, attr)
	some pab in by_ref(ref_key(rc, ref))
} | by_name(planguard.value(rc, [attr], null))

# True when `a`'s `attr_a` and `b`'s `attr_b` name the same target in the same module (e.g. the
# `bucket` of a bucket policy and of a public access block): both reference the same resource,
# or both are the same known value.
same_target(a, attr_a, b, attr_b) if {
	planguard.module_path(a) == planguard.module_path(b)
	some ref in lib.references(a, attr_a)
	not startswith(ref, "each.")
	not startswith(ref, "count.")
	ref in lib.references(b, attr_b)
}

same_target(a, attr_a, b, attr_b) if {
	v := planguard.value(a, [attr_a], null)
	is_string(v)
	v != ""
	v == planguard.value(b, [attr_b], null)
}

# True when `flag` is known true on a bucket-level block for the same bucket as `rc`'s `attr`,
# or on an account-level block.
bucket_flag(rc, attr, flag) if {
	some pab in target_candidates(rc, attr)
	same_target(rc, attr, pab, "bucket")
	not planguard.unknown(pab, [flag])
	planguard.value(pab, [flag], false) == true
}

bucket_flag(_, _, flag) if account_flag(flag)

# A bucket-level block whose `bucket` points at the bucket `bucket`.
has_block(bucket) if {
	some pab in bucket_candidates(bucket)
	lib.links_to(pab, "bucket", bucket, "bucket")
}

# The same as bucket_flag for a legacy aws_s3_bucket argument.
own_bucket_flag(bucket, flag) if {
	some pab in bucket_candidates(bucket)
	lib.links_to(pab, "bucket", bucket, "bucket")
	not planguard.unknown(pab, [flag])
	planguard.value(pab, [flag], false) == true
}

own_bucket_flag(_, flag) if account_flag(flag)

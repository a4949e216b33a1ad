# planguard's builtins (planguard.*) in plain Rego: the specification src/policy/native.rs
# implements, and what `planguard policies export` ships in their place, so that OPA and
# conftest run the built-in library unchanged.
#
# The library calls these as `planguard.<name>(...)`; inside planguard that is a builtin, in an
# exported library each calling file imports `data.planguard`, which is this package.
# tests/native.rs holds the builtins to this Rego on every resource change of the corpus, the
# fixtures and a synthetic plan.
package planguard

import rego.v1

# The changes of `kind` (a type, or a set or array of types) that produce a new or modified
# object: create, update and both replace orders; unchanged ones (no-op) when
# `check_unchanged` is true.
changes(resource_changes, kind, check_unchanged) := [rc |
	some rc in resource_changes
	of_kind(rc.type, kind)
	rc.mode == "managed"
	produces(rc, check_unchanged)
]

of_kind(type, kind) if type == kind

of_kind(type, kinds) if {
	not is_string(kinds)
	type in kinds
}

produces(rc, _) if {
	some action in rc.change.actions
	action in {"create", "update"}
}

produces(rc, check_unchanged) if {
	rc.change.actions == ["no-op"]
	check_unchanged == true
}

# The planned value of a change: rc.change.after when it is an object, else {}.
after(rc) := a if {
	a := rc.change.after
	is_object(a)
} else := {}

# The planned value at a path, or `default_value` when absent or null.
value(rc, path, default_value) := v if {
	v := object.get(after(rc), path, null)
	v != null
} else := default_value

# The attribute at `path` is unknown until apply, or the whole change is.
unknown(rc, path) if {
	markers := rc.change.after_unknown
	is_object(markers)
	object.get(markers, path, false) == true
}

unknown(rc, _) if rc.change.after_unknown == true

# The value at `path` or an enclosing block is unknown.
unknown_here_or_above(rc, path) if unknown(rc, path)

unknown_here_or_above(rc, path) if {
	marks := object.get(rc.change, "after_unknown", {})
	is_object(marks)
	some n in numbers.range(1, count(path))
	object.get(marks, array.slice(path, 0, n), false) == true
}

# Anything at `path` is unknown: the value itself or any part of it.
unknown_within(rc, path) if unknown(rc, path)

unknown_within(rc, path) if {
	is_object(object.get(rc.change, "after_unknown", {}))
	marks := object.get(object.get(rc.change, "after_unknown", {}), path, false)
	is_collection(marks)
	walk(marks, [_, true])
}

is_collection(x) if is_array(x)

is_collection(x) if is_object(x)

# Module call names of a change: "module.vpc[0].module.subnets" -> ["vpc", "subnets"].
module_path(rc) := [] if {
	not rc.module_address
} else := [name |
	some part in split(rc.module_address, ".module.")
	name := trim_prefix(regex.replace(part, `\[[^\]]*\]$`, ""), "module.")
]

# The configuration block that declares a change's resource, in `root_module` (the plan's
# configuration.root_module), modules nested up to three deep below the root.
config_block(root_module, rc) := config_blocks(root_module)[concat("/", array.concat(module_path(rc), [sprintf("%s.%s", [rc.type, rc.name])]))]

config_blocks(root) := object.union_n([
	{block.address: block | some block in object.get(root, "resources", [])},
	{concat("/", [a, block.address]): block |
		some a, call in object.get(root, "module_calls", {})
		some block in object.get(call.module, "resources", [])
	},
	{concat("/", [a, b, block.address]): block |
		some a, ca in object.get(root, "module_calls", {})
		some b, cb in object.get(ca.module, "module_calls", {})
		some block in object.get(cb.module, "resources", [])
	},
	{concat("/", [a, b, c, block.address]): block |
		some a, ca in object.get(root, "module_calls", {})
		some b, cb in object.get(ca.module, "module_calls", {})
		some c, cc in object.get(cb.module, "module_calls", {})
		some block in object.get(cc.module, "resources", [])
	},
])

# `other` (e.g. a public access block) points at `rc` (e.g. a bucket) through its attribute
# `attr`: in the same module, a configuration reference to the resource, its id, arn, bucket
# or `rc_attr`, or equal known values. `root_module` as for config_block.
links_to(root_module, other, attr, rc, rc_attr) if {
	module_path(other) == module_path(rc)
	some ref in object.get(config_block(root_module, other), ["expressions", attr, "references"], [])
	address := sprintf("%s.%s", [rc.type, rc.name])
	startswith(ref, address)
	substring(ref, count(address), -1) in {"", ".id", ".arn", ".bucket", sprintf(".%s", [rc_attr])}
}

links_to(_, other, attr, rc, rc_attr) if {
	v := value(other, [attr], null)
	v != null
	v == value(rc, [rc_attr], "")
}

# What a resource's map attribute `attr` (tags_all) will hold for `keys`, when the map is
# known: missing (absent or blank), unknown, and the known values. Undefined when the map
# itself is not known.
tag_report(rc, attr, keys) := report_of({key: map_state(rc, attr, key) | some key in keys}, keys) if {
	is_object(after(rc)[attr])
	not tagging_unknown(rc, [attr])
}

tagging_unknown(rc, _) if rc.change.after_unknown == true

tagging_unknown(rc, path) if {
	is_object(object.get(rc.change, "after_unknown", {}))
	unknown(rc, path)
}

map_state(rc, attr, key) := {"state": "unknown"} if {
	tagging_unknown(rc, [attr, key])
} else := {"state": "known", "value": v} if {
	v := after(rc)[attr][key]
	v != null
} else := {"state": "absent"}

report_of(states, keys) := {
	"missing": [k |
		some k in keys
		s := states[k]
		s.state != "unknown"
		trim_space(sprintf("%v", [object.get(s, "value", "")])) == ""
	],
	"unknown": [k | some k in keys; states[k].state == "unknown"],
	"values": {k: s.value | some k in keys; s := states[k]; s.state == "known"},
}

# What a resource's own `tags` merged over the provider's default tags (`defaults`: a map, or
# null when the plan cannot tell them) will hold for `keys`, when `tags_all` is not known. A key
# that `tags` leaves unset takes the default's state; a key it sets (even blank) or leaves
# unknown keeps its own. Undefined when `tags` is neither a known map nor null.
tag_report_defaults(rc, keys, defaults) := with_defaults(own, keys, defaults) if {
	own := tag_report(rc, "tags", keys)
} else := with_defaults({"missing": [k | some k in keys], "unknown": [], "values": {}}, keys, defaults) if {
	object.get(after(rc), "tags", null) == null
	not tags_marker_is_object(rc)
}

tags_marker_is_object(rc) if is_object(rc.change.after_unknown.tags)

with_defaults(own, keys, defaults) := own if {
	count(absent_keys(own)) == 0
} else := report_of(object.union(own_states(own), default_states(absent_keys(own), defaults)), keys)

# The keys a report lists as missing because they are not set at all (not blank).
absent_keys(own) := {k | some k in own.missing; not k in object.keys(own.values)}

own_states(own) := object.union(
	{k: {"state": "unknown"} | some k in own.unknown},
	{k: {"state": "known", "value": v} | some k, v in own.values},
)

default_states(absent, defaults) := {k: {"state": "unknown"} | some k in absent} if {
	defaults == null
} else := object.union(
	{k: {"state": "absent"} | some k in absent},
	{k: {"state": "known", "value": v} | some k in absent; v := defaults[k]; v != null},
)

# The reports of tag_report(rc, "tags_all", keys) for many changes at once: `flagged` pairs each
# change whose `tags_all` the plan knows (other than an Auto Scaling group) with its report,
# when the report has a missing or unknown key or a value outside `tag_values`; `rest` lists
# the changes whose `tags_all` is not known, and Auto Scaling groups. Changes without a planned
# object are in neither.
tag_reports(changes, keys, tag_values) := {
	"flagged": [[rc, r] |
		some rc in changes
		is_object(rc.change.after)
		r := tags_all_report(rc, keys)
		tag_report_flagged(r, tag_values)
	],
	"rest": [rc |
		some rc in changes
		is_object(rc.change.after)
		not tags_all_report(rc, keys)
	],
}

tags_all_report(rc, keys) := tag_report(rc, "tags_all", keys) if rc.type != "aws_autoscaling_group"

tag_report_flagged(report, _) if count(report.missing) > 0

tag_report_flagged(report, _) if count(report.unknown) > 0

tag_report_flagged(report, tag_values) if {
	some key, allowed in tag_values
	value := report.values[key]
	not value in allowed
}

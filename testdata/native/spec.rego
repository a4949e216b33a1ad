# Rules that list every case where a planguard.* builtin (src/policy/native.rs) and its Rego
# specification (src/policy/pure.rego) disagree. tests/native.rs evaluates them on real plans.
package native_spec

import data.planguard as pure
import rego.v1

# --- The specifications ----------------------------------------------------------------------
#
# The pure-Rego planguard.* of src/policy/pure.rego (package planguard, what `planguard policies
# export` ships in place of the builtins), under the names the cases use.

ref_after(rc) := pure.after(rc)

ref_value(rc, path, default_value) := pure.value(rc, path, default_value)

ref_unknown(rc, path) if pure.unknown(rc, path)

ref_unknown_here_or_above(rc, path) if pure.unknown_here_or_above(rc, path)

ref_unknown_within(rc, path) if pure.unknown_within(rc, path)

ref_module_path(rc) := pure.module_path(rc)

ref_config_block(rc) := pure.config_block(input.configuration.root_module, rc)

ref_changes(kind, check_unchanged) := pure.changes(changes, kind, check_unchanged)

ref_changes_in(kinds, check_unchanged) := pure.changes(changes, kinds, check_unchanged)

ref_tag_report(rc, attr, keys) := pure.tag_report(rc, attr, keys)

ref_tag_report_defaults(rc, keys, defaults) := pure.tag_report_defaults(rc, keys, defaults)

ref_tag_reports(rcs, keys, tag_values) := pure.tag_reports(rcs, keys, tag_values)

ref_links_to(other, attr, rc, rc_attr) if pure.links_to(root_module, other, attr, rc, rc_attr)

# --- The cases ---------------------------------------------------------------------------------

# The plan's changes, plus changes with awkward module addresses and unknown markers.
changes := array.concat(object.get(input, "resource_changes", []), [
	{"address": "x1", "type": "t", "name": "n", "mode": "managed", "module_address": "module.a[\"x]y\"].module.b[0]", "change": {"actions": ["create"], "after": {"tags_all": {"A": "", "Blank": " \t", "N": 3, "F": false, "L": []}}, "after_unknown": {"tags_all": {"B": true}}}},
	{"address": "x2", "type": "t", "name": "n", "mode": "managed", "module_address": "module.a[\"k[1\"]", "change": {"actions": ["no-op"], "after": null, "after_unknown": true}},
	{"address": "x3", "type": "t", "name": "n", "mode": "data", "change": {"actions": ["update"], "after": {"b": [{"c": 1}]}, "after_unknown": {"b": [{"c": true}]}}},
	{"address": "x4", "type": "u", "name": "n", "mode": "managed", "module_address": false, "change": {"actions": ["delete", "create"], "after": {"tags_all": null}, "after_unknown": {"tags_all": true}}},
	{"address": "x5", "type": "t", "name": "n", "mode": "managed", "change": {"actions": ["create"], "after": {"tags": {"Owner": "me", "Blank": "", "N": null}}, "after_unknown": {"tags": {"CostCenter": true}, "tags_all": true}}},
	{"address": "x6", "type": "t", "name": "n", "mode": "managed", "change": {"actions": ["create"], "after": {"tags": null}, "after_unknown": {"tags_all": true}}},
	{"address": "x7", "type": "t", "name": "n", "mode": "managed", "change": {"actions": ["create"], "after": {}, "after_unknown": {"tags": {}, "tags_all": true}}},
	{"address": "x8", "type": "t", "name": "n", "mode": "managed", "change": {"actions": ["create"], "after": {"tags": ["not", "a", "map"]}, "after_unknown": {}}},
])

# Paths into each change: every attribute and marker, their keys and first elements, and
# paths that lead nowhere.
paths(rc) := {p | some p in [["nope"], ["tags_all", "Owner"], ["tags", "Owner"], ["a", 0, "b"], []]} |
	{[k] | some k, _ in ref_after(rc)} |
	{[k, k2] | some k, v in ref_after(rc); is_object(v); some k2, _ in v} |
	{[k, i] | some k, v in ref_after(rc); is_array(v); some i, _ in v} |
	{[k, i, k2] | some k, v in ref_after(rc); is_array(v); some i, e in v; is_object(e); some k2, _ in e} |
	{[k] | some k, _ in markers(rc)} |
	{[k, i, k2] | some k, v in markers(rc); is_array(v); some i, e in v; is_object(e); some k2, _ in e}

markers(rc) := m if {
	m := rc.change.after_unknown
	is_object(m)
} else := {}

map_keys(rc, attr) := {"Owner", "CostCenter", "Environment", "Blank"} | {k |
	m := object.get(ref_after(rc), attr, {})
	is_object(m)
	some k, _ in m
}

# Keys as a set (every key of the map, and some that are not) and as an ordered array.
key_lists(rc, attr) := [map_keys(rc, attr), ["Owner", "Blank", "A", "N", "F", "L", "CostCenter"]]

kinds := {rc.type | some rc in changes}

checked := count([1 | some rc in changes; some _ in paths(rc)])

# --- Disagreements ---------------------------------------------------------------------------

disagreements contains ["after", rc.address] if {
	some rc in changes
	ref_after(rc) != planguard.after(rc)
}

disagreements contains ["value", rc.address, path] if {
	some rc in changes
	some path in paths(rc)
	ref_value(rc, path, "default") != planguard.value(rc, path, "default")
}

disagreements contains ["unknown", rc.address, path] if {
	some rc in changes
	some path in paths(rc)
	ref_unknown(rc, path) != planguard.unknown(rc, path)
}

disagreements contains ["unknown", rc.address, path] if {
	some rc in changes
	some path in paths(rc)
	not ref_unknown(rc, path)
	planguard.unknown(rc, path)
}

disagreements contains ["unknown_here_or_above", rc.address, path] if {
	some rc in changes
	some path in paths(rc)
	ref_unknown_here_or_above(rc, path) != planguard.unknown_here_or_above(rc, path)
}

disagreements contains ["unknown_here_or_above", rc.address, path] if {
	some rc in changes
	some path in paths(rc)
	not ref_unknown_here_or_above(rc, path)
	planguard.unknown_here_or_above(rc, path)
}

disagreements contains ["unknown_within", rc.address, path] if {
	some rc in changes
	some path in paths(rc)
	ref_unknown_within(rc, path) != planguard.unknown_within(rc, path)
}

disagreements contains ["unknown_within", rc.address, path] if {
	some rc in changes
	some path in paths(rc)
	not ref_unknown_within(rc, path)
	planguard.unknown_within(rc, path)
}

disagreements contains ["module_path", rc.address] if {
	some rc in changes
	ref_module_path(rc) != planguard.module_path(rc)
}

disagreements contains ["config_block", rc.address] if {
	some rc in changes
	ref_config_block(rc) != planguard.config_block(input.configuration.root_module, rc)
}

disagreements contains ["config_block defined", rc.address] if {
	some rc in changes
	not ref_config_block(rc)
	planguard.config_block(input.configuration.root_module, rc)
}

disagreements contains ["config_block undefined", rc.address] if {
	some rc in changes
	ref_config_block(rc)
	not planguard.config_block(input.configuration.root_module, rc)
}

# Changes whose configuration block was found (so the comparison above is not vacuous).
found_blocks := count([1 | some rc in changes; ref_config_block(rc)])

disagreements contains ["tag_report", rc.address, attr] if {
	some rc in changes
	some attr in ["tags_all", "tags"]
	some keys in key_lists(rc, attr)
	ref_tag_report(rc, attr, keys) != planguard.tag_report(rc, attr, keys)
}

disagreements contains ["tag_report defined", rc.address, attr] if {
	some rc in changes
	some attr in ["tags_all", "tags"]
	some keys in key_lists(rc, attr)
	not ref_tag_report(rc, attr, keys)
	planguard.tag_report(rc, attr, keys)
}

disagreements contains ["tag_report undefined", rc.address, attr] if {
	some rc in changes
	some attr in ["tags_all", "tags"]
	some keys in key_lists(rc, attr)
	ref_tag_report(rc, attr, keys)
	not planguard.tag_report(rc, attr, keys)
}

# Reports the merge gave (so the comparisons below are not vacuous).
merged_reports := count([1 |
	some rc in changes
	some keys in key_lists(rc, "tags")
	some defaults in default_tag_maps
	ref_tag_report_defaults(rc, keys, defaults)
])

# Provider default tags: none, some (one blank, one null), and unknown.
default_tag_maps := [{}, {"Owner": "platform", "CostCenter": " ", "Environment": null, "A": "x"}, null]

disagreements contains ["tag_report_defaults", rc.address, i] if {
	some rc in changes
	some keys in key_lists(rc, "tags")
	some i, defaults in default_tag_maps
	ref_tag_report_defaults(rc, keys, defaults) != planguard.tag_report_defaults(rc, keys, defaults)
}

disagreements contains ["tag_report_defaults defined", rc.address, i] if {
	some rc in changes
	some keys in key_lists(rc, "tags")
	some i, defaults in default_tag_maps
	not ref_tag_report_defaults(rc, keys, defaults)
	planguard.tag_report_defaults(rc, keys, defaults)
}

disagreements contains ["tag_report_defaults undefined", rc.address, i] if {
	some rc in changes
	some keys in key_lists(rc, "tags")
	some i, defaults in default_tag_maps
	ref_tag_report_defaults(rc, keys, defaults)
	not planguard.tag_report_defaults(rc, keys, defaults)
}

disagreements contains ["changes", kind, check] if {
	some kind in kinds
	some check in [true, false]
	ref_changes(kind, check) != planguard.changes(changes, kind, check)
}

disagreements contains ["changes of a set of types", check] if {
	some check in [true, false]
	ref_changes_in(kinds, check) != planguard.changes(changes, kinds, check)
}

disagreements contains ["changes of an array or object of types", check] if {
	some check in [true, false]
	some of in [[k | some k in kinds], {k: k | some k in kinds}, [], 7]
	ref_changes_in(of, check) != planguard.changes(changes, of, check)
}


# The tagging settings the bulk reports are compared under: the defaults, odd keys with
# allowed values of every shape, none at all, `tag_values` as an array, and values that only
# the allowed values flag.
tag_settings := [
	[["Owner", "CostCenter", "Environment"], {"Environment": ["dev", "staging", "prod"]}],
	[["Owner", "Blank", "A", "N", "F", "L", "B", "CostCenter"], {"A": [""], "N": {3}, "Owner": "me", "F": {"x": false}, "L": []}],
	[[], {}],
	[["Environment"], ["prod"]],
	[["Environment"], {"Environment": ["none of the plan's"]}],
	[["N", "F"], {"N": [4], "F": [false]}],
]

# The changes, plus an Auto Scaling group, a change without a type and one that is not an object.
tagged_changes := array.concat(changes, [
	{"address": "asg", "type": "aws_autoscaling_group", "name": "n", "mode": "managed", "change": {"actions": ["create"], "after": {"tags_all": {}}, "after_unknown": {}}},
	{"address": "untyped", "name": "n", "mode": "managed", "change": {"actions": ["create"], "after": {"tags_all": {"Owner": "x"}}, "after_unknown": {}}},
	"not a change",
])

disagreements contains ["tag_reports", i] if {
	some i, setting in tag_settings
	ref_tag_reports(tagged_changes, setting[0], setting[1]) != planguard.tag_reports(tagged_changes, setting[0], setting[1])
}

# --- Links between changes -----------------------------------------------------------------------

root_module := object.get(input, ["configuration", "root_module"], {})

# Changes by their address in a module ("aws_s3_bucket.logs"), and by their `bucket` value.
by_config_address[address] contains rc if {
	some rc in changes
	is_string(rc.type)
	is_string(rc.name)
	address := sprintf("%s.%s", [rc.type, rc.name])
}

by_bucket[v] contains rc if {
	some rc in changes
	v := ref_value(rc, ["bucket"], null)
	v != null
}

# [other, attr, rc, rc_attr] to compare: each change with each attribute its configuration
# block references and every change those references name (the same module or not); each
# change with a `bucket` value and the changes of the same value; and each change with itself.
link_cases contains [other, attr, rc, rc_attr] if {
	some other in changes
	some attr, e in object.get(ref_config_block(other), "expressions", {})
	is_object(e)
	some ref in object.get(e, "references", [])
	is_string(ref)
	parts := split(regex.replace(ref, `\[[^\]]*\]`, ""), ".")
	count(parts) >= 2
	some rc in by_config_address[concat(".", array.slice(parts, 0, 2))]
	some rc_attr in ["bucket", "name"]
}

link_cases contains [other, "bucket", rc, "bucket"] if {
	some rcs in by_bucket
	some other in rcs
	some rc in rcs
}

link_cases contains [rc, "bucket", rc, "bucket"] if some rc in changes

# A configuration of its own, whose references end in every suffix that links and some that
# do not, in the root module and a module call; with the changes of its blocks, and buckets in
# both modules.
link_suffixes := ["", ".id", ".arn", ".bucket", ".name", ".tags", "b.id", "[0].id", "[0]"]

link_block(i) := {
	"address": sprintf("aws_s3_bucket_public_access_block.s%d", [i]),
	"expressions": {"bucket": {"references": [sprintf("aws_s3_bucket.b%s", [link_suffixes[i]])]}},
}

link_root := {
	"resources": [link_block(i) | some i, _ in link_suffixes],
	"module_calls": {"m": {"module": {"resources": [link_block(i) | some i, _ in link_suffixes]}}},
}

# A change in the module `module`, or in the root module when that is null.
link_change(type, name, module) := object.filter(change, [k | some k, v in change; v != null]) if {
	change := {"address": sprintf("%s.%s", [type, name]), "type": type, "name": name, "mode": "managed", "module_address": module, "change": {"actions": ["create"], "after": {}}}
}

link_others := [link_change("aws_s3_bucket_public_access_block", sprintf("s%d", [i]), module) |
	some i, _ in link_suffixes
	some module in [null, "module.m", "module.n"]
]

link_targets := [link_change("aws_s3_bucket", name, module) |
	some name in ["b", "bb"]
	some module in [null, "module.m"]
]

own_link_cases contains [other, rc, rc_attr] if {
	some other in link_others
	some rc in link_targets
	some rc_attr in ["bucket", "name"]
}

disagreements contains ["links_to defined in a configuration of its own", c[0], c[1], c[2]] if {
	some c in own_link_cases
	not pure.links_to(link_root, c[0], "bucket", c[1], c[2])
	planguard.links_to(link_root, c[0], "bucket", c[1], c[2])
}

disagreements contains ["links_to undefined in a configuration of its own", c[0], c[1], c[2]] if {
	some c in own_link_cases
	pure.links_to(link_root, c[0], "bucket", c[1], c[2])
	not planguard.links_to(link_root, c[0], "bucket", c[1], c[2])
}

# Cases that link (so the comparisons are not vacuous).
links := count([1 | some c in link_cases; ref_links_to(c[0], c[1], c[2], c[3])]) + count([1 |
	some c in own_link_cases
	pure.links_to(link_root, c[0], "bucket", c[1], c[2])
])

disagreements contains ["links_to defined", c[0].address, c[1], c[2].address, c[3]] if {
	some c in link_cases
	not ref_links_to(c[0], c[1], c[2], c[3])
	planguard.links_to(root_module, c[0], c[1], c[2], c[3])
}

disagreements contains ["links_to undefined", c[0].address, c[1], c[2].address, c[3]] if {
	some c in link_cases
	ref_links_to(c[0], c[1], c[2], c[3])
	not planguard.links_to(root_module, c[0], c[1], c[2], c[3])
}

package planguard.tagging.tags_required_test

import data.planguard.tagging.tags_required
import rego.v1

all_tags := {"Owner": "team-a", "CostCenter": "cc-1", "Environment": "prod"}

change(kind, name, after, unknown, actions) := {
	"address": sprintf("%s.%s", [kind, name]),
	"type": kind,
	"name": name,
	"mode": "managed",
	"change": {"actions": actions, "before": null, "after": after, "after_unknown": unknown},
}

# A plan with one change and, when `key` is not null, its configuration block using the
# provider configuration `key`.
plan(rc, providers, key) := {
	"resource_changes": [rc],
	"configuration": {
		"provider_config": providers,
		"root_module": {"resources": [block | key != null; block := {
			"address": sprintf("%s.%s", [rc.type, rc.name]),
			"mode": "managed",
			"type": rc.type,
			"name": rc.name,
			"provider_config_key": key,
		}]},
	},
}

aws(tags) := {"name": "aws", "full_name": "registry.terraform.io/hashicorp/aws", "expressions": {
	"region": {"constant_value": "eu-west-1"},
	"default_tags": [{"tags": {"constant_value": tags}}],
}}

no_default_tags := {"aws": {"name": "aws", "expressions": {"region": {"constant_value": "eu-west-1"}}}}

instance(after, unknown) := change("aws_instance", "web", after, unknown, ["create"])

# --- tags_all known ----------------------------------------------------------------------------

test_all_required_tags_in_tags_all_pass if {
	inp := plan(instance({"tags": null, "tags_all": all_tags}, {}), no_default_tags, null)
	count(tags_required.deny) == 0 with input as inp
	count(tags_required.warn) == 0 with input as inp
}

test_missing_tag_in_tags_all_is_denied if {
	inp := plan(instance({"tags_all": {"Owner": "a", "Environment": "dev"}}, {}), no_default_tags, null)
	some r in tags_required.deny with input as inp
	r.address == "aws_instance.web"
	contains(r.msg, "required tag CostCenter")
	count(tags_required.deny) == 1 with input as inp
}

test_all_missing_tags_are_listed_in_one_finding if {
	inp := plan(instance({"tags_all": {}}, {}), no_default_tags, null)
	some r in tags_required.deny with input as inp
	contains(r.msg, "tags Owner, CostCenter, Environment")
	count(tags_required.deny) == 1 with input as inp
}

test_empty_tag_value_counts_as_missing if {
	inp := plan(instance({"tags_all": object.union(all_tags, {"Owner": " "})}, {}), no_default_tags, null)
	some r in tags_required.deny with input as inp
	contains(r.msg, "tag Owner")
}

test_tags_all_wins_over_provider_configuration if {
	# tags_all already holds the defaults; a provider without them changes nothing
	inp := plan(instance({"tags": {"Owner": "a"}, "tags_all": all_tags}, {}), no_default_tags, "aws")
	count(tags_required.deny) == 0 with input as inp
}

test_update_is_checked if {
	rc := change("aws_s3_bucket", "logs", {"tags_all": {"Owner": "a"}}, {}, ["update"])
	count(tags_required.deny) == 1 with input as plan(rc, no_default_tags, null)
}

test_replace_is_checked if {
	rc := change("aws_s3_bucket", "logs", {"tags_all": {"Owner": "a"}}, {}, ["delete", "create"])
	count(tags_required.deny) == 1 with input as plan(rc, no_default_tags, null)
}

# --- unknowns ----------------------------------------------------------------------------------

test_unknown_tag_value_in_tags_all_warns if {
	inp := plan(
		instance({"tags_all": object.union(all_tags, {"Owner": null})}, {"tags_all": {"Owner": true}}),
		no_default_tags, null,
	)
	count(tags_required.deny) == 0 with input as inp
	some r in tags_required.warn with input as inp
	contains(r.msg, "required tag Owner is unknown until apply")
	count(tags_required.warn) == 1 with input as inp
}

test_unknown_tags_all_and_tags_warn_only if {
	inp := plan(instance({}, {"tags": true, "tags_all": true}), no_default_tags, "aws")
	count(tags_required.deny) == 0 with input as inp
	some r in tags_required.warn with input as inp
	contains(r.msg, "tags Owner, CostCenter, Environment")
}

test_unknown_and_missing_tags_give_both_findings if {
	inp := plan(
		instance({"tags": {"Owner": null}}, {"tags": {"Owner": true}, "tags_all": true}),
		no_default_tags, "aws",
	)
	count(tags_required.warn) == 1 with input as inp
	some r in tags_required.deny with input as inp
	contains(r.msg, "tags CostCenter, Environment")
}

test_unknown_default_tags_warn_for_tags_the_resource_does_not_set if {
	providers := {"aws": {"name": "aws", "expressions": {"default_tags": [{"tags": {"references": ["var.default_tags"]}}]}}}
	inp := plan(instance({"tags": {"Owner": "a"}}, {"tags_all": true}), providers, "aws")
	count(tags_required.deny) == 0 with input as inp
	some r in tags_required.warn with input as inp
	contains(r.msg, "tags CostCenter, Environment")
	not contains(r.msg, "Owner")
}

test_wholly_unknown_resource_warns if {
	rc := change("aws_instance", "web", {}, true, ["create"])
	count(tags_required.deny) == 0 with input as plan(rc, no_default_tags, null)
	count(tags_required.warn) == 1 with input as plan(rc, no_default_tags, null)
}

# --- default_tags fallback (tags_all unknown or absent) -------------------------------------

test_default_tags_complete_the_resource_tags if {
	providers := {"aws": aws({"CostCenter": "cc-1", "Environment": "prod"})}
	inp := plan(instance({"tags": {"Owner": "a"}}, {"tags_all": true}), providers, "aws")
	count(tags_required.deny) == 0 with input as inp
	count(tags_required.warn) == 0 with input as inp
}

test_default_tags_do_not_hide_a_missing_tag if {
	providers := {"aws": aws({"Environment": "prod"})}
	inp := plan(instance({"tags": {"Owner": "a"}}, {"tags_all": true}), providers, "aws")
	some r in tags_required.deny with input as inp
	contains(r.msg, "required tag CostCenter")
}

test_resource_tag_overrides_default_tag if {
	providers := {"aws": aws(all_tags)}
	inp := plan(instance({"tags": {"Owner": ""}}, {"tags_all": true}), providers, "aws")
	some r in tags_required.deny with input as inp
	contains(r.msg, "required tag Owner")
}

test_old_provider_without_tags_all_uses_tags if {
	inp := plan(instance({"tags": {"Owner": "a", "CostCenter": "c"}}, {}), no_default_tags, "aws")
	some r in tags_required.deny with input as inp
	contains(r.msg, "required tag Environment")
}

test_no_configuration_at_all_uses_tags if {
	inp := {"resource_changes": [instance({"tags": all_tags}, {})]}
	count(tags_required.deny) == 0 with input as inp
}

# --- provider aliases and modules ----------------------------------------------------------

alias_providers := {
	"aws": aws(all_tags),
	"aws.west": object.union(aws({"Owner": "a"}), {"alias": "west"}),
}

test_alias_provider_default_tags_are_used if {
	inp := plan(instance({"tags": null}, {"tags_all": true}), alias_providers, "aws.west")
	some r in tags_required.deny with input as inp
	contains(r.msg, "tags CostCenter, Environment")
}

test_default_provider_default_tags_are_used if {
	inp := plan(instance({"tags": null}, {"tags_all": true}), alias_providers, "aws")
	count(tags_required.deny) == 0 with input as inp
}

test_module_resource_inherits_root_provider_through_placeholder if {
	providers := {
		"aws": aws(all_tags),
		"module.app:aws": {"name": "aws", "full_name": "registry.terraform.io/hashicorp/aws", "module_address": "module.app"},
	}
	rc := object.union(instance({"tags": null}, {"tags_all": true}), {"address": "module.app.aws_instance.web", "module_address": "module.app"})
	inp := {"resource_changes": [rc], "configuration": {
		"provider_config": providers,
		"root_module": {"module_calls": {"app": {"module": {"resources": [{
			"address": "aws_instance.web", "mode": "managed", "type": "aws_instance", "name": "web",
			"provider_config_key": "module.app:aws",
		}]}}}},
	}}
	count(tags_required.deny) == 0 with input as inp
}

test_module_own_provider_configuration_is_used if {
	providers := {
		"aws": aws(all_tags),
		"module.app:aws": object.union(aws({"Owner": "a"}), {"module_address": "module.app"}),
	}
	rc := object.union(instance({"tags": null}, {"tags_all": true}), {"address": "module.app.aws_instance.web", "module_address": "module.app"})
	inp := {"resource_changes": [rc], "configuration": {
		"provider_config": providers,
		"root_module": {"module_calls": {"app": {"module": {"resources": [{
			"address": "aws_instance.web", "mode": "managed", "type": "aws_instance", "name": "web",
			"provider_config_key": "module.app:aws",
		}]}}}},
	}}
	count(tags_required.deny) == 1 with input as inp
}

test_pre_0_14_module_key_falls_back_to_root_provider if {
	rc := object.union(instance({"tags": null}, {"tags_all": true}), {"address": "module.app.aws_instance.web", "module_address": "module.app"})
	inp := {"resource_changes": [rc], "configuration": {
		"provider_config": {"aws": aws(all_tags)},
		"root_module": {"module_calls": {"app": {"module": {"resources": [{
			"address": "aws_instance.web", "mode": "managed", "type": "aws_instance", "name": "web",
			"provider_config_key": "app:aws",
		}]}}}},
	}}
	count(tags_required.deny) == 0 with input as inp
}

# --- configuration ---------------------------------------------------------------------------

test_required_tags_are_configurable if {
	inp := plan(instance({"tags_all": {"Team": "x"}}, {}), no_default_tags, null)
	count(tags_required.deny) == 0 with input as inp with data.planguard.config as {"required_tags": ["Team"]}
	some r in tags_required.deny with input as inp with data.planguard.config as {"required_tags": ["Team", "App"]}
	contains(r.msg, "required tag App")
}

test_empty_required_tags_disable_the_check if {
	inp := plan(instance({"tags_all": {}}, {}), no_default_tags, null)
	count(tags_required.deny) == 0 with input as inp with data.planguard.config as {"required_tags": []}
}

# --- what is never checked --------------------------------------------------------------------

test_untaggable_types_are_ignored if {
	rc := change("aws_s3_bucket_policy", "logs", {"bucket": "logs", "policy": "{}"}, {}, ["create"])
	count(tags_required.deny) == 0 with input as plan(rc, no_default_tags, null)
	count(tags_required.warn) == 0 with input as plan(rc, no_default_tags, null)
}

test_deletions_are_ignored if {
	rc := change("aws_instance", "web", null, {}, ["delete"])
	count(tags_required.deny) == 0 with input as plan(rc, no_default_tags, null)
}

test_unchanged_resources_only_with_check_unchanged if {
	rc := change("aws_instance", "web", {"tags_all": {}}, {}, ["no-op"])
	count(tags_required.deny) == 0 with input as plan(rc, no_default_tags, null)
	count(tags_required.deny) == 1 with input as plan(rc, no_default_tags, null) with data.planguard.config as {"check_unchanged": true}
}

test_data_sources_are_ignored if {
	rc := object.union(change("aws_instance", "web", {"tags": {}}, {}, ["read"]), {"mode": "data"})
	count(tags_required.deny) == 0 with input as plan(rc, no_default_tags, null)
}

# --- Auto Scaling groups ---------------------------------------------------------------------

asg(after, unknown) := change("aws_autoscaling_group", "workers", after, unknown, ["create"])

asg_tag(k, v) := {"key": k, "value": v, "propagate_at_launch": true}

test_asg_tag_blocks_pass if {
	tags := [asg_tag("Owner", "a"), asg_tag("CostCenter", "c"), asg_tag("Environment", "dev")]
	count(tags_required.deny) == 0 with input as plan(asg({"tag": tags}, {}), no_default_tags, "aws")
}

test_asg_does_not_get_default_tags if {
	inp := plan(asg({"tag": [asg_tag("Owner", "a")]}, {}), {"aws": aws(all_tags)}, "aws")
	some r in tags_required.deny with input as inp
	contains(r.msg, "tags CostCenter, Environment")
	contains(r.msg, "default_tags")
}

test_asg_legacy_tags_list_is_read if {
	tags := [asg_tag("Owner", "a"), asg_tag("CostCenter", "c")]
	some r in tags_required.deny with input as plan(asg({"tags": tags, "tag": []}, {}), no_default_tags, "aws")
	contains(r.msg, "required tag Environment")
}

test_asg_unknown_tag_value_warns if {
	tags := [asg_tag("Owner", null), asg_tag("CostCenter", "c"), asg_tag("Environment", "dev")]
	unknown := {"tag": [{"value": true}, {}, {}]}
	inp := plan(asg({"tag": tags}, unknown), no_default_tags, "aws")
	count(tags_required.deny) == 0 with input as inp
	some r in tags_required.warn with input as inp
	contains(r.msg, "required tag Owner")
}

test_asg_unknown_tag_set_warns if {
	inp := plan(asg({}, {"tag": true}), no_default_tags, "aws")
	count(tags_required.deny) == 0 with input as inp
	count(tags_required.warn) == 1 with input as inp
}

test_asg_with_null_legacy_tags_reads_tag_blocks if {
	tags := [asg_tag("Owner", "a"), asg_tag("CostCenter", "c"), asg_tag("Environment", "dev")]
	count(tags_required.deny) == 0 with input as plan(asg({"tag": tags, "tags": null, "tags_all": null}, {"tag": [{}, {}, {}], "tags": null}), no_default_tags, "aws")
}

test_change_without_planned_value_is_skipped if {
	rc := change("aws_instance", "web", null, {}, ["create"])
	count(tags_required.deny) == 0 with input as plan(rc, no_default_tags, null)
	count(tags_required.warn) == 0 with input as plan(rc, no_default_tags, null)
}

test_asg_without_the_tag_and_null_unknown_markers_is_denied if {
	inp := plan(asg({"tag": [asg_tag("Owner", "a")], "tags": null}, {"tag": [{}], "tags": null}), no_default_tags, "aws")
	some r in tags_required.deny with input as inp
	contains(r.msg, "tags CostCenter, Environment")
}

test_asg_tag_with_unknown_key_warns if {
	inp := plan(asg({"tag": [asg_tag(null, "x")]}, {"tag": [{"key": true}]}), no_default_tags, "aws")
	count(tags_required.deny) == 0 with input as inp
	count(tags_required.warn) == 1 with input as inp
}

# --- the shared reports ---------------------------------------------------------------------------

test_only_changes_with_something_to_report_have_a_report if {
	clean := instance({"tags_all": all_tags}, {})
	untagged := change("aws_instance", "bare", {"tags_all": {}}, {}, ["create"])
	bad_value := change("aws_instance", "staging", {"tags_all": object.union(all_tags, {"Environment": "Prod"})}, {}, ["create"])
	unknown := change("aws_instance", "later", {"tags_all": all_tags}, {"tags_all": {"Owner": true}}, ["create"])
	inp := {"resource_changes": [clean, untagged, bad_value, unknown], "configuration": {"provider_config": no_default_tags}}
	reported := {rc.address | some [rc, _] in data.planguard.tagging.helpers.reports} with input as inp
	reported == {"aws_instance.bare", "aws_instance.staging", "aws_instance.later"}
}

package planguard.tagging.tags_allowed_values_test

import data.planguard.tagging.tags_allowed_values
import data.planguard.tagging.tags_required_test as t
import rego.v1

bucket(after, unknown) := t.change("aws_s3_bucket", "logs", after, unknown, ["create"])

test_allowed_value_passes if {
	inp := t.plan(bucket({"tags_all": {"Environment": "prod"}}, {}), t.no_default_tags, null)
	count(tags_allowed_values.deny) == 0 with input as inp
	count(tags_allowed_values.warn) == 0 with input as inp
}

test_value_outside_the_list_is_denied if {
	inp := t.plan(bucket({"tags_all": {"Environment": "production"}}, {}), t.no_default_tags, null)
	some r in tags_allowed_values.deny with input as inp
	r.address == "aws_s3_bucket.logs"
	contains(r.msg, `tag Environment = "production" is not an allowed value (allowed: dev, staging, prod)`)
}

test_values_are_case_sensitive if {
	inp := t.plan(bucket({"tags_all": {"Environment": "Prod"}}, {}), t.no_default_tags, null)
	count(tags_allowed_values.deny) == 1 with input as inp
}

test_absent_tag_is_left_to_the_required_policy if {
	inp := t.plan(bucket({"tags_all": {"Owner": "a"}}, {}), t.no_default_tags, null)
	count(tags_allowed_values.deny) == 0 with input as inp
	count(tags_allowed_values.warn) == 0 with input as inp
}

test_unknown_value_warns if {
	inp := t.plan(bucket({"tags_all": {"Environment": null}}, {"tags_all": {"Environment": true}}), t.no_default_tags, null)
	count(tags_allowed_values.deny) == 0 with input as inp
	some r in tags_allowed_values.warn with input as inp
	contains(r.msg, "the value of tag Environment is unknown until apply")
}

test_bad_default_tag_value_is_denied if {
	providers := {"aws": t.aws({"Environment": "qa"})}
	inp := t.plan(bucket({"tags": {"Owner": "a"}}, {"tags_all": true}), providers, "aws")
	some r in tags_allowed_values.deny with input as inp
	contains(r.msg, `"qa"`)
}

test_resource_tag_overrides_bad_default_tag if {
	providers := {"aws": t.aws({"Environment": "qa"})}
	inp := t.plan(bucket({"tags": {"Environment": "dev"}}, {"tags_all": true}), providers, "aws")
	count(tags_allowed_values.deny) == 0 with input as inp
}

test_alias_provider_default_tags_are_checked if {
	providers := {
		"aws": t.aws({"Environment": "prod"}),
		"aws.legacy": object.union(t.aws({"Environment": "Production"}), {"alias": "legacy"}),
	}
	rc := bucket({"tags": null}, {"tags_all": true})
	count(tags_allowed_values.deny) == 1 with input as t.plan(rc, providers, "aws.legacy")
	count(tags_allowed_values.deny) == 0 with input as t.plan(rc, providers, "aws")
}

test_tag_values_are_configurable if {
	inp := t.plan(bucket({"tags_all": {"Environment": "qa", "CostCenter": "cc-9"}}, {}), t.no_default_tags, null)
	cfg := {"tag_values": {"Environment": ["qa", "prod"], "CostCenter": ["cc-1", "cc-2"]}}
	some r in tags_allowed_values.deny with input as inp with data.planguard.config as cfg
	contains(r.msg, `tag CostCenter = "cc-9"`)
	count(tags_allowed_values.deny) == 1 with input as inp with data.planguard.config as cfg
}

test_empty_tag_values_disable_the_check if {
	inp := t.plan(bucket({"tags_all": {"Environment": "anything"}}, {}), t.no_default_tags, null)
	count(tags_allowed_values.deny) == 0 with input as inp with data.planguard.config as {"tag_values": {}}
}

test_asg_tag_blocks_are_checked if {
	rc := t.change("aws_autoscaling_group", "workers", {"tag": [{"key": "Environment", "value": "test", "propagate_at_launch": true}]}, {}, ["create"])
	count(tags_allowed_values.deny) == 1 with input as t.plan(rc, t.no_default_tags, "aws")
}

test_untaggable_types_and_deletions_are_ignored if {
	policy := t.change("aws_iam_role_policy_attachment", "a", {"tags_all": {"Environment": "bad"}}, {}, ["create"])
	count(tags_allowed_values.deny) == 0 with input as t.plan(policy, t.no_default_tags, null)
	gone := t.change("aws_s3_bucket", "old", null, {}, ["delete"])
	count(tags_allowed_values.deny) == 0 with input as t.plan(gone, t.no_default_tags, null)
}

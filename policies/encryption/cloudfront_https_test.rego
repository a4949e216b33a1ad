package planguard.encryption.cloudfront_https_test

import data.planguard.encryption.cloudfront_https as policy
import rego.v1

distribution(after, unknown, actions) := {"resource_changes": [{
	"address": "aws_cloudfront_distribution.site",
	"type": "aws_cloudfront_distribution",
	"name": "site",
	"mode": "managed",
	"change": {"actions": actions, "before": null, "after": after, "after_unknown": unknown},
}]}

behavior(policy) := {"target_origin_id": "s3", "viewer_protocol_policy": policy}

ordered(pattern, policy) := object.union(behavior(policy), {"path_pattern": pattern})

after(default_policy, ordered_behaviors) := {
	"enabled": true,
	"default_cache_behavior": [behavior(default_policy)],
	"ordered_cache_behavior": ordered_behaviors,
}

test_https_behaviors_pass if {
	inp := distribution(after("redirect-to-https", [ordered("/api/*", "https-only")]), {}, ["create"])
	count(policy.deny) == 0 with input as inp
	count(policy.warn) == 0 with input as inp
}

test_allow_all_default_behavior_is_denied if {
	inp := distribution(after("allow-all", []), {}, ["create"])
	some r in policy.deny with input as inp
	r.address == "aws_cloudfront_distribution.site"
	contains(r.msg, `default cache behavior allows plain HTTP (viewer_protocol_policy = "allow-all")`)
}

test_allow_all_ordered_behavior_is_denied_by_path if {
	inp := distribution(after("https-only", [ordered("/api/*", "https-only"), ordered("/img/*", "allow-all")]), {}, ["create"])
	some r in policy.deny with input as inp
	contains(r.msg, `ordered cache behavior "/img/*"`)
	count(policy.deny) == 1 with input as inp
}

test_each_insecure_behavior_is_reported if {
	inp := distribution(after("allow-all", [ordered("/img/*", "allow-all")]), {}, ["update"])
	count(policy.deny) == 2 with input as inp
}

test_unknown_viewer_protocol_policy_warns if {
	unknown := {"ordered_cache_behavior": [{"viewer_protocol_policy": true}]}
	inp := distribution(after("https-only", [ordered("/api/*", null)]), unknown, ["create"])
	count(policy.deny) == 0 with input as inp
	some r in policy.warn with input as inp
	contains(r.msg, `ordered cache behavior "/api/*"'s viewer_protocol_policy is unknown`)
}

test_unknown_behavior_list_warns if {
	inp := distribution({"default_cache_behavior": [behavior("https-only")]}, {"ordered_cache_behavior": true}, ["create"])
	count(policy.deny) == 0 with input as inp
	count(policy.warn) == 1 with input as inp
}

test_deleted_distribution_is_ignored if {
	count(policy.deny) == 0 with input as distribution(null, {}, ["delete"])
}

test_unchanged_distribution_only_with_check_unchanged if {
	inp := distribution(after("allow-all", []), {}, ["no-op"])
	count(policy.deny) == 0 with input as inp
	count(policy.deny) == 1 with input as inp with data.planguard.config as {"check_unchanged": true}
}

test_change_without_planned_value_is_skipped if {
	count(policy.deny) == 0 with input as distribution(null, {"logging_config": [{"bucket": true}]}, ["create"])
}

# Helpers for the tagging policies: which resource types carry tags, and what a resource's
# tags will be once applied (its own `tags` merged over the AWS provider's `default_tags`).
package planguard.tagging.helpers

import data.planguard.lib
import rego.v1

# AWS resource types that carry cost-allocation tags. The policies' `resource_types` metadata
# lists exactly this set (the engine only feeds a policy the types it names), so keep the two
# in step. Sub-resources that cannot be tagged (policies, attachments, rules, associations)
# are deliberately absent, and so are listeners and listener rules, whose cost is billed on
# the load balancer.
#
# aws_autoscaling_group is included with its own reader: its tags are `tag` blocks (or, in
# provider versions before 5.0, a `tags` list of maps), it has no `tags_all`, and the provider's
# `default_tags` are never applied to it.
taggable_types := {
	"aws_acm_certificate",
	"aws_acmpca_certificate_authority",
	"aws_alb",
	"aws_alb_target_group",
	"aws_ami",
	"aws_api_gateway_rest_api",
	"aws_api_gateway_stage",
	"aws_apigatewayv2_api",
	"aws_apigatewayv2_stage",
	"aws_appsync_graphql_api",
	"aws_athena_workgroup",
	"aws_autoscaling_group",
	"aws_backup_plan",
	"aws_backup_vault",
	"aws_batch_compute_environment",
	"aws_batch_job_queue",
	"aws_cloudfront_distribution",
	"aws_cloudtrail",
	"aws_cloudwatch_event_bus",
	"aws_cloudwatch_event_rule",
	"aws_cloudwatch_log_group",
	"aws_cloudwatch_metric_alarm",
	"aws_codebuild_project",
	"aws_codecommit_repository",
	"aws_codepipeline",
	"aws_cognito_user_pool",
	"aws_customer_gateway",
	"aws_dax_cluster",
	"aws_db_instance",
	"aws_db_option_group",
	"aws_db_parameter_group",
	"aws_db_subnet_group",
	"aws_docdb_cluster",
	"aws_docdb_cluster_instance",
	"aws_dynamodb_table",
	"aws_ebs_snapshot",
	"aws_ebs_volume",
	"aws_ec2_capacity_reservation",
	"aws_ec2_client_vpn_endpoint",
	"aws_ec2_host",
	"aws_ec2_transit_gateway",
	"aws_ec2_transit_gateway_route_table",
	"aws_ec2_transit_gateway_vpc_attachment",
	"aws_ecr_repository",
	"aws_ecs_cluster",
	"aws_ecs_service",
	"aws_ecs_task_definition",
	"aws_efs_file_system",
	"aws_egress_only_internet_gateway",
	"aws_eip",
	"aws_eks_cluster",
	"aws_eks_fargate_profile",
	"aws_eks_node_group",
	"aws_elastic_beanstalk_environment",
	"aws_elasticache_cluster",
	"aws_elasticache_replication_group",
	"aws_elasticache_subnet_group",
	"aws_elasticsearch_domain",
	"aws_elb",
	"aws_emr_cluster",
	"aws_fsx_lustre_file_system",
	"aws_fsx_ontap_file_system",
	"aws_fsx_openzfs_file_system",
	"aws_fsx_windows_file_system",
	"aws_glacier_vault",
	"aws_globalaccelerator_accelerator",
	"aws_glue_crawler",
	"aws_glue_job",
	"aws_iam_instance_profile",
	"aws_iam_policy",
	"aws_iam_role",
	"aws_iam_user",
	"aws_instance",
	"aws_internet_gateway",
	"aws_key_pair",
	"aws_kinesis_firehose_delivery_stream",
	"aws_kinesis_stream",
	"aws_kms_key",
	"aws_lambda_function",
	"aws_launch_template",
	"aws_lb",
	"aws_lb_target_group",
	"aws_memorydb_cluster",
	"aws_mq_broker",
	"aws_msk_cluster",
	"aws_nat_gateway",
	"aws_neptune_cluster",
	"aws_neptune_cluster_instance",
	"aws_network_acl",
	"aws_network_interface",
	"aws_networkfirewall_firewall",
	"aws_opensearch_domain",
	"aws_rds_cluster",
	"aws_rds_cluster_instance",
	"aws_rds_cluster_parameter_group",
	"aws_redshift_cluster",
	"aws_route53_health_check",
	"aws_route53_resolver_endpoint",
	"aws_route53_zone",
	"aws_route_table",
	"aws_s3_bucket",
	"aws_sagemaker_endpoint",
	"aws_sagemaker_model",
	"aws_sagemaker_notebook_instance",
	"aws_secretsmanager_secret",
	"aws_security_group",
	"aws_sfn_state_machine",
	"aws_sns_topic",
	"aws_spot_instance_request",
	"aws_sqs_queue",
	"aws_ssm_parameter",
	"aws_subnet",
	"aws_transfer_server",
	"aws_vpc",
	"aws_vpc_dhcp_options",
	"aws_vpc_endpoint",
	"aws_vpc_peering_connection",
	"aws_vpn_connection",
	"aws_vpn_gateway",
	"aws_wafv2_web_acl",
	"aws_workspaces_workspace",
}

# The changes of taggable types that create or update an object (deletions never count):
# lib.changes of every taggable type, in one builtin call. Those without a planned object
# (some generated plans carry `after: null`) have no tags to read, and are left out below.
taggable_changes := planguard.changes(input.resource_changes, taggable_types, lib.config("check_unchanged", false))

# The library settings of the tagging policies.
required_tags := lib.config("required_tags", ["Owner", "CostCenter", "Environment"])

tag_values := lib.config("tag_values", {"Environment": ["dev", "staging", "prod"]})

# Every tag key the two policies read: the required tags, then those with allowed values.
tracked_tags := array.concat(required_tags, [k | some k, _ in tag_values])

# Each taggable change with the report of its tracked tags (see tag_report), worked out once
# for both policies and all their rules: each keeps the keys it is about. Only changes with
# something to report are listed (a missing or unknown tracked tag, or a value outside
# `tag_values`): most changes are clean, and leaving them out spares each of the four tagging
# rules a pass over them.
#
# The changes whose `tags_all` the plan knows (nearly all, other than Auto Scaling groups) are
# reported by one builtin call for all of them, which is tag_report's first case and `flagged`
# (planguard.tag_reports); the builtin hands back the others, which go through tag_report's
# other cases here. Pair by pair in Rego, the first case cost a few microseconds a change: a
# fifth of the whole library's time on a plan of 100,000 resources.
known_reports := planguard.tag_reports(taggable_changes, tracked_tags, tag_values)

reports contains pair if some pair in known_reports.flagged

reports contains [rc, report] if {
	some rc in known_reports.rest
	report := tag_report(rc, tracked_tags)
	flagged(report)
}

flagged(report) if count(report.missing) > 0

flagged(report) if count(report.unknown) > 0

flagged(report) if {
	some key, allowed in tag_values
	value := report.values[key]
	not value in allowed
}

# --- A tag's state ---------------------------------------------------------------------------
#
# tag_state(rc, key) is one of
#   {"state": "known", "value": v}  the tag will be set to v
#   {"state": "unknown"}            the plan cannot tell the tag's value (or whether it is set)
#   {"state": "absent"}             the tag will not be set
#
# `tags_all` (the provider's merge of `default_tags` and the resource's `tags`) is used where
# the plan knows it. Otherwise the merge is done here: the resource's `tags` over the
# `default_tags` of the provider configuration the resource uses.

known(v) := {"state": "known", "value": v}

# lib.unknown, safe for a change whose whole value is unknown (`after_unknown: true`), on
# which lib.unknown's object.get fails in regorus.
unknown(rc, _) if rc.change.after_unknown == true

unknown(rc, path) if {
	is_object(object.get(rc.change, "after_unknown", {}))
	planguard.unknown(rc, path)
}

unknown_state := {"state": "unknown"}

absent_state := {"state": "absent"}

tag_state(rc, key) := asg_tag_state(rc, key) if {
	rc.type == "aws_autoscaling_group"
} else := map_state(rc, "tags_all", key) if {
	tags_all_known(rc)
} else := fallback_state(rc, key)

# What a resource's tags will hold for `keys` (in their order):
#   missing  the keys that will be absent, or set to a blank value
#   unknown  the keys whose value the plan cannot tell
#   values   {key: value} of the keys whose value is known
# One builtin call in the common case (a known `tags_all`: the builtin applies map_state to
# each key and summarises as report_of does). Without a known `tags_all`, one builtin merges
# the resource's own `tags` over the provider's `default_tags` (what fallback_state does key
# by key; in Rego that was about 150 µs per resource, most of a plan's evaluation when no
# resource knows its `tags_all`). Auto Scaling groups, and `tags` that are neither a map nor
# null, go tag by tag.
tag_report(rc, keys) := r if {
	rc.type != "aws_autoscaling_group"
	r := planguard.tag_report(rc, "tags_all", keys)
} else := {"missing": [], "unknown": [k | some k in keys], "values": {}} if {
	rc.type != "aws_autoscaling_group"
	unknown(rc, ["tags"])
} else := r if {
	rc.type != "aws_autoscaling_group"
	r := planguard.tag_report_defaults(rc, keys, provider_default_tags(rc))
} else := report_of({key: tag_state(rc, key) | some key in keys}, keys)

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

# The value of `key` in the map attribute `attr`, by key.
map_state(rc, attr, key) := unknown_state if {
	unknown(rc, [attr, key])
} else := known(v) if {
	v := planguard.after(rc)[attr][key]
	v != null
} else := absent_state

tags_all_known(rc) if {
	is_object(planguard.after(rc).tags_all)
	not unknown(rc, ["tags_all"])
}

# tags_all is missing or unknown: the resource's own tags win over the provider defaults.
fallback_state(rc, key) := unknown_state if {
	unknown(rc, ["tags"])
} else := s if {
	s := map_state(rc, "tags", key)
	s.state != "absent"
} else := default_tag_state(rc, key)

default_tag_state(rc, key) := unknown_state if {
	provider_default_tags(rc) == null
} else := known(v) if {
	v := provider_default_tags(rc)[key]
	v != null
} else := absent_state

# --- Provider default_tags -------------------------------------------------------------------

# The provider_config key of the provider configuration a change uses: "aws", "aws.west",
# "module.app:aws" (or "app:aws" in Terraform before 0.14). Without configuration: "aws".
provider_key(rc) := key if {
	key := planguard.config_block(lib.root_module, rc).provider_config_key
	is_string(key)
} else := "aws"

# The default tags of the AWS provider configuration a change uses: {} without default_tags,
# null when the plan cannot tell them. An entry for a module that only names the provider (no
# configuration block, so no expressions) means the module inherits the root module's
# configuration of the same name, as older Terraform versions write it; so does a module key
# that is not in the map at all.
provider_default_tags(rc) := t if {
	key := provider_key(rc)
	not key in inherited_keys
	t := default_tags_by_provider[key]
} else := t if {
	parts := split(provider_key(rc), ":")
	t := default_tags_by_provider[parts[count(parts) - 1]]
} else := {}

# The default tags of each AWS provider configuration, by provider_config key: worked out
# once per evaluation, not once per resource.
default_tags_by_provider[key] := default_tags_of(p) if some key, p in aws_providers

# Provider configuration keys of modules that inherit the root module's configuration.
inherited_keys contains key if {
	some key, p in aws_providers
	inherited_placeholder(p)
}

# lib.aws_providers by its full path: regorus 0.14 loses a rule reached through an import
# alias from inside a function of a package once a rule of that package has been evaluated
# in the same query (here: taggable_types, then tag_state).
aws_providers := data.planguard.lib.aws_providers

inherited_placeholder(p) if {
	p.module_address
	not p.expressions
}

# A provider configuration's default tags: {} without a default_tags block, the map when it is
# a constant, else null.
default_tags_of(p) := {} if {
	not default_tags_expression(p)
} else := t if {
	t := default_tags_expression(p).constant_value
	is_object(t)
} else := null

# The `tags` expression of a provider configuration's default_tags block, when there is one.
default_tags_expression(p) := e if {
	some block in p.expressions.default_tags
	e := block.tags
}

# --- Auto Scaling groups -----------------------------------------------------------------------

# Tag entries of an Auto Scaling group with their path: `tag` blocks, and the `tags` list of
# maps of provider versions before 5.0.
asg_entries(rc) := [[[attr, i], e] |
	some attr in ["tag", "tags"]
	entries := object.get(planguard.after(rc), attr, [])
	is_array(entries)
	some i, e in entries
	is_object(e)
]

asg_tag_state(rc, key) := unknown_state if {
	some attr in ["tag", "tags"]
	unknown(rc, [attr])
} else := unknown_state if {
	some entry in asg_entries(rc)
	entry[1].key == key
	unknown(rc, array.concat(entry[0], ["value"]))
} else := known(v) if {
	some entry in asg_entries(rc)
	entry[1].key == key
	v := entry[1].value
	v != null
} else := unknown_state if {
	# a tag whose key is unknown could be this one
	some attr in ["tag", "tags"]
	after_unknown := object.get(rc.change, "after_unknown", {})
	is_object(after_unknown)
	entries := object.get(after_unknown, attr, [])
	is_array(entries)
	some e in entries
	is_object(e)
	object.get(e, "key", false) == true
} else := absent_state

# --- Messages ------------------------------------------------------------------------------------

# "tag Owner" / "tags CostCenter, Owner"
tag_list(keys) := sprintf("tag %s", [keys[0]]) if {
	count(keys) == 1
} else := sprintf("tags %s", [concat(", ", keys)])

# Where a resource's tags come from, for the remediation hint in a message.
source_hint(rc) := "Auto Scaling groups do not receive the provider's default_tags; add `tag` blocks" if {
	rc.type == "aws_autoscaling_group"
} else := "add to `tags` or to the provider's `default_tags`"

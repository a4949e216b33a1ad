# METADATA
# title: AWS resources carry the required cost-allocation tags
# description: |
#   Cost allocation, showback and ownership lookups only work when every billable resource
#   carries the organisation's tags (by default Owner, CostCenter and Environment). A resource
#   created without them shows up as unallocated spend that nobody owns, and tagging it later
#   means finding it first. The check reads `tags_all` where the plan knows it (so tags set by
#   the provider's `default_tags` count), otherwise the resource's `tags` merged over the
#   `default_tags` of the provider configuration the resource uses. A tag with an empty value
#   counts as missing. Configure the list with `required_tags` in data.planguard.config.
# custom:
#   id: aws-tags-required
#   level: error
#   resource_types: [aws_acm_certificate, aws_acmpca_certificate_authority, aws_alb,
#     aws_alb_target_group, aws_ami, aws_api_gateway_rest_api, aws_api_gateway_stage,
#     aws_apigatewayv2_api, aws_apigatewayv2_stage, aws_appsync_graphql_api, aws_athena_workgroup,
#     aws_autoscaling_group, aws_backup_plan, aws_backup_vault, aws_batch_compute_environment,
#     aws_batch_job_queue, aws_cloudfront_distribution, aws_cloudtrail, aws_cloudwatch_event_bus,
#     aws_cloudwatch_event_rule, aws_cloudwatch_log_group, aws_cloudwatch_metric_alarm,
#     aws_codebuild_project, aws_codecommit_repository, aws_codepipeline, aws_cognito_user_pool,
#     aws_customer_gateway, aws_dax_cluster, aws_db_instance, aws_db_option_group,
#     aws_db_parameter_group, aws_db_subnet_group, aws_docdb_cluster, aws_docdb_cluster_instance,
#     aws_dynamodb_table, aws_ebs_snapshot, aws_ebs_volume, aws_ec2_capacity_reservation,
#     aws_ec2_client_vpn_endpoint, aws_ec2_host, aws_ec2_transit_gateway,
#     aws_ec2_transit_gateway_route_table, aws_ec2_transit_gateway_vpc_attachment,
#     aws_ecr_repository, aws_ecs_cluster, aws_ecs_service, aws_ecs_task_definition,
#     aws_efs_file_system, aws_egress_only_internet_gateway, aws_eip, aws_eks_cluster,
#     aws_eks_fargate_profile, aws_eks_node_group, aws_elastic_beanstalk_environment,
#     aws_elasticache_cluster, aws_elasticache_replication_group, aws_elasticache_subnet_group,
#     aws_elasticsearch_domain, aws_elb, aws_emr_cluster, aws_fsx_lustre_file_system,
#     aws_fsx_ontap_file_system, aws_fsx_openzfs_file_system, aws_fsx_windows_file_system,
#     aws_glacier_vault, aws_globalaccelerator_accelerator, aws_glue_crawler, aws_glue_job,
#     aws_iam_instance_profile, aws_iam_policy, aws_iam_role, aws_iam_user, aws_instance,
#     aws_internet_gateway, aws_key_pair, aws_kinesis_firehose_delivery_stream, aws_kinesis_stream,
#     aws_kms_key, aws_lambda_function, aws_launch_template, aws_lb, aws_lb_target_group,
#     aws_memorydb_cluster, aws_mq_broker, aws_msk_cluster, aws_nat_gateway, aws_neptune_cluster,
#     aws_neptune_cluster_instance, aws_network_acl, aws_network_interface,
#     aws_networkfirewall_firewall, aws_opensearch_domain, aws_rds_cluster,
#     aws_rds_cluster_instance, aws_rds_cluster_parameter_group, aws_redshift_cluster,
#     aws_route53_health_check, aws_route53_resolver_endpoint, aws_route53_zone, aws_route_table,
#     aws_s3_bucket, aws_sagemaker_endpoint, aws_sagemaker_model, aws_sagemaker_notebook_instance,
#     aws_secretsmanager_secret, aws_security_group, aws_sfn_state_machine, aws_sns_topic,
#     aws_spot_instance_request, aws_sqs_queue, aws_ssm_parameter, aws_subnet, aws_transfer_server,
#     aws_vpc, aws_vpc_dhcp_options, aws_vpc_endpoint, aws_vpc_peering_connection,
#     aws_vpn_connection, aws_vpn_gateway, aws_wafv2_web_acl, aws_workspaces_workspace]
#   remediation: Add the missing tags to the resource's `tags` (or `tag` blocks on an Auto Scaling group), or set them once for every resource in the AWS provider's `default_tags { tags = { ... } }` block.
#   checkov: []
#   trivy: []
package planguard.tagging.tags_required

import data.planguard.lib
import data.planguard.tagging.helpers
import rego.v1

required_tags := helpers.required_tags

deny contains lib.result(rc, msg) if {
	some [rc, report] in helpers.reports
	keys := [k | some k in required_tags; k in report.missing]
	count(keys) > 0
	msg := sprintf("%s: missing or empty required %s (%s)", [rc.address, helpers.tag_list(keys), helpers.source_hint(rc)])
}

warn contains lib.unknown_result(rc, sprintf("the value of required %s", [helpers.tag_list(keys)])) if {
	some [rc, report] in helpers.reports
	keys := [k | some k in required_tags; k in report.unknown]
	count(keys) > 0
}

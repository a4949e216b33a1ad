# METADATA
# title: AWS cost-allocation tags use allowed values
# description: |
#   Cost reports group spend by tag value, so a tag set to a value outside the agreed list
#   ("Prod", "production", "test1") splits one bucket into many and hides spend from the
#   reports that filter on the right value. For every tag named in `tag_values` in
#   data.planguard.config (default: Environment must be dev, staging or prod), a resource that
#   sets the tag must use one of the listed values; values are compared exactly, case
#   included, as AWS does. A tag that is not set is left to aws-tags-required.
# custom:
#   id: aws-tags-allowed-values
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
#   remediation: Change the tag's value (in the resource's `tags`, an Auto Scaling group's `tag` blocks, or the AWS provider's `default_tags`) to one of the allowed values, or extend `tag_values` in the planguard configuration.
#   checkov: []
#   trivy: []
package planguard.tagging.tags_allowed_values

import data.planguard.lib
import data.planguard.tagging.helpers
import rego.v1

tag_values := helpers.tag_values

deny contains lib.result(rc, msg) if {
	some [rc, report] in helpers.reports
	values := report.values
	some key, allowed in tag_values
	value := values[key]
	not value in allowed
	msg := sprintf("%s: tag %s = %q is not an allowed value (allowed: %s)", [rc.address, key, value, concat(", ", [sprintf("%v", [v]) | some v in allowed])])
}

warn contains lib.unknown_result(rc, sprintf("the value of tag %s", [key])) if {
	some [rc, report] in helpers.reports
	some key in report.unknown
	tag_values[key]
}

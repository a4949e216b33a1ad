package aws.tagging

import data.lib.terraform as tf
import rego.v1

taggable := {"aws_instance", "aws_ebs_volume", "aws_s3_bucket", "aws_db_instance", "aws_lambda_function", "aws_sqs_queue", "aws_dynamodb_table", "aws_vpc", "aws_subnet", "aws_kms_key", "aws_lb", "aws_security_group", "aws_iam_role", "aws_cloudwatch_log_group"}

deny_missing_tags contains tf.msg(rc, sprintf("missing required tags %v", [missing])) if {
	some kind in taggable
	some rc in tf.by_type[kind]
	missing := tf.required_tags - {k | some k, v in tf.effective_tags(rc); v != ""}
	count(missing) > 0
}

deny_environment_value contains tf.msg(rc, sprintf("Environment %q is not one of dev, staging, prod", [env])) if {
	some kind in taggable
	some rc in tf.by_type[kind]
	env := tf.effective_tags(rc).Environment
	not env in {"dev", "staging", "prod"}
}

deny_cost_center_format contains tf.msg(rc, "CostCenter must look like cc-1234") if {
	some kind in taggable
	some rc in tf.by_type[kind]
	cc := tf.effective_tags(rc).CostCenter
	not regex.match(`^cc-[0-9]{4}$`, cc)
}

warn_managed_by contains tf.msg(rc, "tags should include ManagedBy") if {
	some kind in taggable
	some rc in tf.by_type[kind]
	not tf.effective_tags(rc).ManagedBy
}

deny_owner_lowercase contains tf.msg(rc, "Owner must be lower case") if {
	some kind in taggable
	some rc in tf.by_type[kind]
	owner := tf.effective_tags(rc).Owner
	lower(owner) != owner
}

package aws.storage

import data.lib.terraform as tf
import rego.v1

deny_ebs_unencrypted contains tf.msg(rc, "EBS volume is not encrypted") if {
	some rc in tf.by_type.aws_ebs_volume
	not rc.change.after.encrypted
}

deny_ebs_too_large contains tf.msg(rc, "EBS volume larger than 1 TB") if {
	some rc in tf.by_type.aws_ebs_volume
	rc.change.after.size > 1000
}

deny_s3_unencrypted contains tf.msg(rc, "bucket has no server-side encryption configuration") if {
	some rc in tf.by_type.aws_s3_bucket
	not rc.change.after.bucket in tf.encrypted_buckets
	count(object.get(rc.change.after, "server_side_encryption_configuration", [])) == 0
}

deny_s3_force_destroy contains tf.msg(rc, "bucket can be force-destroyed") if {
	some rc in tf.by_type.aws_s3_bucket
	rc.change.after.force_destroy == true
}

deny_s3_public_access contains tf.msg(rc, sprintf("public access block leaves %s off", [setting])) if {
	some rc in tf.by_type.aws_s3_bucket_public_access_block
	some setting in ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"]
	rc.change.after[setting] == false
}

deny_dynamodb_pitr contains tf.msg(rc, "point-in-time recovery is off") if {
	some rc in tf.by_type.aws_dynamodb_table
	not rc.change.after.point_in_time_recovery[0].enabled
}

deny_sqs_unencrypted contains tf.msg(rc, "queue is not encrypted") if {
	some rc in tf.by_type.aws_sqs_queue
	not rc.change.after.sqs_managed_sse_enabled
	not rc.change.after.kms_master_key_id
}

deny_log_retention contains tf.msg(rc, "log group keeps logs for less than 90 days") if {
	some rc in tf.by_type.aws_cloudwatch_log_group
	days := object.get(rc.change.after, "retention_in_days", 0)
	days < 90
}

deny_kms_rotation contains tf.msg(rc, "KMS key rotation is off") if {
	some rc in tf.by_type.aws_kms_key
	not rc.change.after.enable_key_rotation
}

package aws.data

import data.lib.terraform as tf
import rego.v1

deny_rds_public contains tf.msg(rc, "database is publicly accessible") if {
	some rc in tf.by_type.aws_db_instance
	rc.change.after.publicly_accessible == true
}

deny_rds_unencrypted contains tf.msg(rc, "database storage is not encrypted") if {
	some rc in tf.by_type.aws_db_instance
	not rc.change.after.storage_encrypted
}

deny_rds_backups contains tf.msg(rc, "database keeps backups for less than 7 days") if {
	some rc in tf.by_type.aws_db_instance
	object.get(rc.change.after, "backup_retention_period", 0) < 7
}

deny_rds_deletion_protection contains tf.msg(rc, "production database without deletion protection") if {
	some rc in tf.by_type.aws_db_instance
	tf.effective_tags(rc).Environment == "prod"
	not rc.change.after.deletion_protection
}

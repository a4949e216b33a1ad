package planguard.encryption.sns_topic_encryption_test

import data.planguard.encryption.sns_topic_encryption
import rego.v1

plan(actions, after, unknown) := {"resource_changes": [{
	"address": "aws_sns_topic.alerts", "type": "aws_sns_topic", "name": "alerts", "mode": "managed",
	"change": {"actions": actions, "after": after, "after_unknown": unknown},
}]}

test_topic_without_key_is_denied if {
	some r in sns_topic_encryption.deny with input as plan(["create"], {"name": "alerts", "kms_master_key_id": null}, {"arn": true})
	r.address == "aws_sns_topic.alerts"
	contains(r.msg, "no kms_master_key_id")
}

test_empty_key_is_denied if {
	count(sns_topic_encryption.deny) == 1 with input as plan(["update"], {"name": "alerts", "kms_master_key_id": ""}, {})
}

test_topic_with_key_passes if {
	count(sns_topic_encryption.deny) == 0 with input as plan(["create"], {"name": "alerts", "kms_master_key_id": "alias/aws/sns"}, {})
}

test_key_created_in_the_same_plan_passes if {
	count(sns_topic_encryption.deny) == 0 with input as plan(["create"], {"name": "alerts"}, {"kms_master_key_id": true})
}

test_unchanged_topic_is_not_checked if {
	count(sns_topic_encryption.deny) == 0 with input as plan(["no-op"], {"name": "alerts"}, {})
}

test_unchanged_topic_is_checked_with_check_unchanged if {
	count(sns_topic_encryption.deny) == 1 with input as plan(["no-op"], {"name": "alerts"}, {}) with data.planguard.config as {"check_unchanged": true}
}

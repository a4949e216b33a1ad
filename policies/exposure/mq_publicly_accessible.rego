# METADATA
# title: Amazon MQ brokers are not publicly accessible
# description: |
#   A publicly accessible broker exposes its message endpoints and web console to the internet,
#   protected only by broker user passwords.
# custom:
#   id: aws-mq-publicly-accessible
#   level: error
#   resource_types: [aws_mq_broker]
#   remediation: Set `publicly_accessible = false` (the default) and connect clients from inside the VPC.
#   checkov: [CKV_AWS_69]
#   trivy: [AVD-AWS-0072]
package planguard.exposure.mq_publicly_accessible

import data.planguard.exposure.helpers
import data.planguard.lib
import rego.v1

deny contains lib.result(rc, sprintf("%s: MQ broker is publicly accessible (publicly_accessible = true)", [rc.address])) if {
	some rc in lib.changes("aws_mq_broker")
	helpers.enabled(rc, ["publicly_accessible"], false)
}

warn contains lib.unknown_result(rc, "`publicly_accessible`") if {
	some rc in lib.changes("aws_mq_broker")
	helpers.unknown_setting(rc, ["publicly_accessible"])
}

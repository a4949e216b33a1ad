# METADATA
# title: Kinesis data streams are encrypted at rest
# description: |
#   A stream keeps its records for the whole retention period; `encryption_type` defaults to
#   "NONE", which stores them unencrypted.
# custom:
#   id: aws-kinesis-stream-encryption
#   level: error
#   resource_types: [aws_kinesis_stream]
#   remediation: Set `encryption_type = "KMS"` and `kms_key_id` (a customer managed key, or "alias/aws/kinesis").
#   checkov: [CKV_AWS_43]
#   trivy: [AVD-AWS-0064]
package planguard.encryption.kinesis_stream_encryption

import data.planguard.encryption.helpers
import data.planguard.lib
import rego.v1

attr := ["encryption_type"]

deny contains lib.result(rc, sprintf("%s: stream is not encrypted (encryption_type = \"%s\"%s)", [rc.address, kind, helpers.default_note(rc, attr)])) if {
	some rc in lib.changes("aws_kinesis_stream")
	kind := helpers.setting(rc, attr, "NONE")
	upper(kind) != "KMS"
}

warn contains lib.unknown_result(rc, "`encryption_type`") if {
	some rc in lib.changes("aws_kinesis_stream")
	helpers.pending(rc, attr)
}

# METADATA
# title: ECR repositories are encrypted with KMS
# description: |
#   ECR encrypts images with SSE-S3 (AES256) unless the repository asks for KMS; with KMS, a key
#   policy controls who can pull the layers and every use is logged. Images are encrypted either
#   way, hence a warning; the setting cannot be changed after the repository is created.
# custom:
#   id: aws-ecr-repository-kms
#   level: warning
#   resource_types: [aws_ecr_repository]
#   remediation: Add `encryption_configuration { encryption_type = "KMS", kms_key = aws_kms_key.<name>.arn }` to the repository.
#   checkov: [CKV_AWS_136]
#   trivy: [AVD-AWS-0033]
package planguard.encryption.ecr_repository_kms

import data.planguard.encryption.helpers
import data.planguard.lib
import rego.v1

attr := ["encryption_configuration", 0, "encryption_type"]

deny contains lib.result(rc, sprintf("%s: repository is not encrypted with KMS (encryption_type = \"%s\"%s)", [rc.address, kind, helpers.default_note(rc, attr)])) if {
	some rc in lib.changes("aws_ecr_repository")
	kind := helpers.setting(rc, attr, "AES256")
	not upper(kind) in {"KMS", "KMS_DSSE"}
}

warn contains lib.unknown_result(rc, "`encryption_configuration.encryption_type`") if {
	some rc in lib.changes("aws_ecr_repository")
	helpers.pending(rc, attr)
}

# METADATA
# title: EBS default encryption is not turned off
# description: |
#   The account's EBS default encryption makes every new volume and snapshot copy in the region
#   encrypted, even when a template or tool forgets to ask for it. Turning it off removes that
#   safety net for the whole region.
# custom:
#   id: aws-ebs-default-encryption
#   level: error
#   resource_types: [aws_ebs_encryption_by_default]
#   remediation: Set `enabled = true` on `aws_ebs_encryption_by_default` (or leave it unset; it defaults to true).
#   checkov: [CKV_AWS_106]
package planguard.encryption.ebs_default_encryption

import data.planguard.encryption.helpers
import data.planguard.lib
import rego.v1

deny contains lib.result(rc, sprintf("%s: EBS default encryption is turned off for this region (enabled = false)", [rc.address])) if {
	some rc in lib.changes("aws_ebs_encryption_by_default")
	helpers.known(rc, ["enabled"]) == false
}

warn contains lib.unknown_result(rc, "`enabled`") if {
	some rc in lib.changes("aws_ebs_encryption_by_default")
	helpers.pending(rc, ["enabled"])
}

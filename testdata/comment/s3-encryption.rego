# METADATA
# title: S3 buckets are encrypted at rest
# description: A bucket without server-side encryption stores objects in clear.
# custom:
#   id: s3-encryption
#   level: error
#   scope: plan
#   remediation: Add a `server_side_encryption_configuration` block.
package comment.s3_encryption

import rego.v1

deny contains {"msg": msg, "address": rc.address} if {
	some rc in input.resource_changes
	rc.type == "aws_s3_bucket"
	"create" in rc.change.actions
	count(object.get(rc.change.after, "server_side_encryption_configuration", [])) == 0
	msg := sprintf("bucket %s has no server-side encryption | add a rule", [rc.change.after.bucket])
}

# METADATA
# title: EKS clusters encrypt Kubernetes secrets with a KMS key
# description: |
#   Kubernetes Secrets hold credentials and tokens. Envelope encryption with a KMS key you own
#   adds a key policy and CloudTrail-logged use on top of the storage encryption of etcd, and it
#   cannot be removed from a cluster once enabled.
# custom:
#   id: aws-eks-secrets-encryption
#   level: error
#   resource_types: [aws_eks_cluster]
#   remediation: Add `encryption_config { resources = ["secrets"] provider { key_arn = aws_kms_key.<name>.arn } }` to the cluster.
#   checkov: [CKV_AWS_58]
#   trivy: [AVD-AWS-0039]
package planguard.encryption.eks_secrets_encryption

import data.planguard.encryption.helpers
import data.planguard.lib
import rego.v1

resources := ["encryption_config", 0, "resources"]

deny contains lib.result(rc, sprintf("%s: Kubernetes secrets are not envelope-encrypted with a KMS key (no encryption_config)", [rc.address])) if {
	some rc in lib.changes("aws_eks_cluster")
	helpers.defaulted(rc, ["encryption_config", 0])
}

deny contains lib.result(rc, sprintf("%s: encryption_config does not cover \"secrets\" (resources = %v)", [rc.address, covered])) if {
	some rc in lib.changes("aws_eks_cluster")
	covered := helpers.known(rc, resources)
	not "secrets" in covered
}

warn contains lib.unknown_result(rc, "`encryption_config.resources`") if {
	some rc in lib.changes("aws_eks_cluster")
	helpers.pending(rc, resources)
}

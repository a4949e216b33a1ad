# METADATA
# title: EKS API endpoints are not public to the whole internet
# description: |
#   The Kubernetes API of an EKS cluster with a public endpoint and no `public_access_cidrs`
#   (which defaults to 0.0.0.0/0) can be reached, and brute-forced or exploited, from anywhere.
# custom:
#   id: aws-eks-public-endpoint
#   level: error
#   resource_types: [aws_eks_cluster]
#   remediation: In `vpc_config`, set `endpoint_public_access = false` (with `endpoint_private_access = true`), or list the networks that need the API in `public_access_cidrs`.
#   checkov: [CKV_AWS_38, CKV_AWS_39]
#   trivy: [AVD-AWS-0040, AVD-AWS-0041]
package planguard.exposure.eks_public_endpoint

import data.planguard.exposure.helpers
import data.planguard.lib
import rego.v1

public_path := ["vpc_config", 0, "endpoint_public_access"]

cidrs_path := ["vpc_config", 0, "public_access_cidrs"]

# The endpoint is public: `endpoint_public_access` defaults to true.
public_endpoint(rc) if helpers.enabled(rc, public_path, true)

deny contains lib.result(rc, sprintf("%s: the cluster's public API endpoint is open to %s", [rc.address, why])) if {
	some rc in lib.changes("aws_eks_cluster")
	public_endpoint(rc)
	why := open_cidrs(rc)
}

# `public_access_cidrs` is computed: left unset it is unknown on create and becomes 0.0.0.0/0.
open_cidrs(rc) := "0.0.0.0/0 (public_access_cidrs is not set, so it defaults to 0.0.0.0/0)" if {
	planguard.unknown(rc, cidrs_path)
	helpers.unset_in_config(rc, cidrs_path)
} else := "0.0.0.0/0 (public_access_cidrs is empty, so it defaults to 0.0.0.0/0)" if {
	not planguard.unknown_within(rc, cidrs_path)
	count(helpers.as_array(planguard.value(rc, cidrs_path, []))) == 0
} else := concat(", ", open) if {
	not planguard.unknown_within(rc, cidrs_path)
	open := sort({c | some c in helpers.as_array(planguard.value(rc, cidrs_path, [])); helpers.world_cidr(c)})
	count(open) > 0
}

warn contains lib.unknown_result(rc, "`vpc_config.endpoint_public_access`") if {
	some rc in lib.changes("aws_eks_cluster")
	helpers.unknown_setting(rc, public_path)
}

warn contains lib.unknown_result(rc, "`vpc_config.public_access_cidrs`") if {
	some rc in lib.changes("aws_eks_cluster")
	public_endpoint(rc)
	planguard.unknown_within(rc, cidrs_path)
	not helpers.unset_in_config(rc, cidrs_path)
}

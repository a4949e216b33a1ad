package planguard.exposure.eks_public_endpoint_test

import data.planguard.exposure.eks_public_endpoint
import rego.v1

change(vpc_config, unknown) := {
	"address": "aws_eks_cluster.main",
	"type": "aws_eks_cluster",
	"name": "main",
	"mode": "managed",
	"change": {"actions": ["create"], "after": {"name": "main", "vpc_config": [vpc_config]}, "after_unknown": {"vpc_config": [unknown]}},
}

plan(rc, vpc_expressions) := {
	"resource_changes": [rc],
	"configuration": {"root_module": {"resources": [{
		"address": "aws_eks_cluster.main", "mode": "managed", "type": "aws_eks_cluster", "name": "main",
		"expressions": {"name": {"constant_value": "main"}, "vpc_config": [vpc_expressions]},
	}]}},
}

subnets := {"subnet_ids": {"references": ["aws_subnet.private"]}}

test_public_endpoint_with_unset_cidrs_is_denied if {
	c := change({"endpoint_public_access": true, "endpoint_private_access": false}, {"public_access_cidrs": true, "cluster_security_group_id": true})
	some r in eks_public_endpoint.deny with input as plan(c, subnets)
	r.address == "aws_eks_cluster.main"
	contains(r.msg, "defaults to 0.0.0.0/0")
	count(eks_public_endpoint.warn) == 0 with input as plan(c, subnets)
}

test_public_endpoint_open_to_the_world_is_denied if {
	c := change({"endpoint_public_access": true, "public_access_cidrs": ["0.0.0.0/0"]}, {})
	count(eks_public_endpoint.deny) == 1 with input as plan(c, object.union(subnets, {"public_access_cidrs": {"constant_value": ["0.0.0.0/0"]}}))
}

test_empty_cidrs_default_to_the_world if {
	c := change({"endpoint_public_access": true, "public_access_cidrs": []}, {})
	count(eks_public_endpoint.deny) == 1 with input as {"resource_changes": [c]}
}

test_public_endpoint_with_narrow_cidrs_passes if {
	c := change({"endpoint_public_access": true, "public_access_cidrs": ["203.0.113.0/24"]}, {})
	count(eks_public_endpoint.deny) == 0 with input as plan(c, object.union(subnets, {"public_access_cidrs": {"constant_value": ["203.0.113.0/24"]}}))
}

test_private_endpoint_passes if {
	c := change({"endpoint_public_access": false, "endpoint_private_access": true}, {"public_access_cidrs": true})
	count(eks_public_endpoint.deny) == 0 with input as plan(c, object.union(subnets, {"endpoint_public_access": {"constant_value": false}}))
	count(eks_public_endpoint.warn) == 0 with input as plan(c, object.union(subnets, {"endpoint_public_access": {"constant_value": false}}))
}

test_cidrs_from_unknown_values_warn if {
	c := change({"endpoint_public_access": true}, {"public_access_cidrs": true})
	expressions := object.union(subnets, {"public_access_cidrs": {"references": ["aws_eip.nat.public_ip", "aws_eip.nat"]}})
	count(eks_public_endpoint.deny) == 0 with input as plan(c, expressions)
	count(eks_public_endpoint.warn) == 1 with input as plan(c, expressions)
}

test_unknown_endpoint_access_warns if {
	c := change({"public_access_cidrs": ["10.0.0.0/8"]}, {"endpoint_public_access": true})
	count(eks_public_endpoint.warn) == 1 with input as plan(c, object.union(subnets, {"endpoint_public_access": {"references": ["var.public"]}}))
}

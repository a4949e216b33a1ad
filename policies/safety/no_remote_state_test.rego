package planguard.safety.no_remote_state_test

import data.planguard.safety.no_remote_state
import rego.v1

rs_block(name) := {
	"address": sprintf("data.terraform_remote_state.%s", [name]),
	"mode": "data",
	"type": "terraform_remote_state",
	"name": name,
	"provider_config_key": "terraform",
	"expressions": {
		"backend": {"constant_value": "s3"},
		"config": {"constant_value": {"bucket": "acme-tfstate", "key": "network/terraform.tfstate", "region": "eu-west-1"}},
	},
	"schema_version": 0,
}

aws_vpc_lookup := {
	"address": "data.aws_vpc.main",
	"mode": "data",
	"type": "aws_vpc",
	"name": "main",
	"provider_config_key": "aws",
	"expressions": {"tags": {"constant_value": {"Layer": "network"}}},
	"schema_version": 0,
}

config(root) := {"configuration": {"root_module": root}}

test_root_remote_state_is_denied if {
	some r in no_remote_state.deny with input as config({"resources": [rs_block("network")]})
	r.address == "data.terraform_remote_state.network"
	contains(r.msg, "data sources and tags")
}

test_nested_module_remote_state_is_denied if {
	root := {
		"resources": [aws_vpc_lookup],
		"module_calls": {"app": {
			"source": "./app",
			"module": {
				"resources": [],
				"module_calls": {"db": {"source": "./db", "module": {"resources": [rs_block("shared")]}}},
			},
		}},
	}
	findings := no_remote_state.deny with input as config(root)
	count(findings) == 1
	some r in findings
	r.address == "module.app.module.db.data.terraform_remote_state.shared"
	startswith(r.msg, "module.app.module.db.data.terraform_remote_state.shared: ")
}

test_every_remote_state_is_reported if {
	root := {
		"resources": [rs_block("network"), rs_block("dns")],
		"module_calls": {"app": {"module": {"resources": [rs_block("network")]}}},
	}
	addresses := {r.address | some r in no_remote_state.deny} with input as config(root)
	addresses == {
		"data.terraform_remote_state.network",
		"data.terraform_remote_state.dns",
		"module.app.data.terraform_remote_state.network",
	}
}

test_tag_lookups_pass if {
	count(no_remote_state.deny) == 0 with input as config({"resources": [aws_vpc_lookup]})
}

test_a_managed_resource_named_like_it_passes if {
	block := object.union(rs_block("x"), {"mode": "managed"})
	count(no_remote_state.deny) == 0 with input as config({"resources": [block]})
}

test_no_configuration_passes if {
	count(no_remote_state.deny) == 0 with input as {"resource_changes": []}
}

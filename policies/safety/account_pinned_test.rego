package planguard.safety.account_pinned_test

import data.planguard.safety.account_pinned
import rego.v1

stack := {"account_id": "111111111111"}

aws(expressions) := {"name": "aws", "full_name": "registry.terraform.io/hashicorp/aws", "expressions": expressions}

plan(providers, variables) := {
	"configuration": {"provider_config": providers, "root_module": {}},
	"variables": variables,
}

const(v) := {"constant_value": v}

refs(list) := {"references": list}

role(arn_expr) := [{"role_arn": arn_expr, "session_name": const("planguard")}]

region := const("eu-west-1")

findings(providers, variables) := {"deny": d, "warn": w} if {
	d := account_pinned.deny with input as plan(providers, variables) with data.planguard.stack as stack
	w := account_pinned.warn with input as plan(providers, variables) with data.planguard.stack as stack
}

only_deny(result, address, text) if {
	count(result.warn) == 0
	count(result.deny) == 1
	some r in result.deny
	r.address == address
	contains(r.msg, text)
}

clean(result) if {
	count(result.deny) == 0
	count(result.warn) == 0
}

test_allowed_account_ids_pins if {
	clean(findings({"aws": aws({"region": region, "allowed_account_ids": const(["111111111111"])})}, {}))
}

test_assume_role_in_the_account_pins if {
	arn := const("arn:aws:iam::111111111111:role/deploy")
	clean(findings({"aws": aws({"region": region, "assume_role": role(arn)})}, {}))
}

test_web_identity_role_pins if {
	arn := const("arn:aws:iam::111111111111:role/github")
	clean(findings({"aws": aws({"assume_role_with_web_identity": role(arn)})}, {}))
}

test_both_pins if {
	e := {
		"allowed_account_ids": const(["111111111111"]),
		"assume_role": role(const("arn:aws:iam::111111111111:role/deploy")),
	}
	clean(findings({"aws": aws(e)}, {}))
}

test_unpinned_provider_is_denied if {
	result := findings({"aws": aws({"region": region})}, {})
	only_deny(result, "provider[\"aws\"]", "\"aws\" is not pinned to the stack's account 111111111111")
}

test_provider_without_expressions_is_denied if {
	result := findings({"aws": {"name": "aws", "full_name": "registry.terraform.io/hashicorp/aws"}}, {})
	only_deny(result, "provider[\"aws\"]", "not pinned")
}

test_alias_address if {
	result := findings({"aws": aws({"allowed_account_ids": const(["111111111111"])}), "aws.west": aws({"region": const("us-west-2")})}, {})
	only_deny(result, "provider[\"aws.west\"]", "\"aws.west\" is not pinned")
}

test_module_provider_address if {
	result := findings({"module.legacy:aws": aws({"region": region})}, {})
	only_deny(result, "module.legacy.provider[\"aws\"]", "not pinned")
}

test_wrong_allowed_account_is_denied if {
	result := findings({"aws": aws({"allowed_account_ids": const(["222222222222"])})}, {})
	only_deny(result, "provider[\"aws\"]", "allows only account 222222222222 (allowed_account_ids), but this stack's account is 111111111111")
}

test_wrong_role_account_is_denied if {
	result := findings({"aws.legacy": aws({"assume_role": role(const("arn:aws:iam::222222222222:role/deploy"))})}, {})
	only_deny(result, "provider[\"aws.legacy\"]", "assumes a role in account 222222222222 (assume_role.role_arn), but this stack's account is 111111111111")
}

test_right_list_but_wrong_role_is_denied if {
	e := {
		"allowed_account_ids": const(["111111111111"]),
		"assume_role": role(const("arn:aws-us-gov:iam::222222222222:role/deploy")),
	}
	only_deny(findings({"aws": aws(e)}, {}), "provider[\"aws\"]", "account 222222222222")
}

test_extra_allowed_accounts_do_not_pin if {
	result := findings({"aws": aws({"allowed_account_ids": const(["111111111111", "333333333333"])})}, {})
	only_deny(result, "provider[\"aws\"]", "(allowed_account_ids also allows 333333333333)")
}

test_extra_allowed_accounts_with_role_in_the_account_pass if {
	e := {
		"allowed_account_ids": const(["111111111111", "333333333333"]),
		"assume_role": role(const("arn:aws:iam::111111111111:role/deploy")),
	}
	clean(findings({"aws": aws(e)}, {}))
}

test_forbidden_account_is_denied if {
	e := {"forbidden_account_ids": const(["111111111111"])}
	only_deny(findings({"aws": aws(e)}, {}), "provider[\"aws\"]", "lists the stack's account 111111111111 in forbidden_account_ids")
}

test_other_forbidden_accounts_do_not_matter if {
	e := {"forbidden_account_ids": const(["999999999999"]), "allowed_account_ids": const(["111111111111"])}
	clean(findings({"aws": aws(e)}, {}))
}

test_role_arn_from_variable_pins if {
	vars := {"deploy_role_arn": {"value": "arn:aws:iam::111111111111:role/deploy"}}
	clean(findings({"aws": aws({"assume_role": role(refs(["var.deploy_role_arn"]))})}, vars))
}

test_role_arn_from_variable_in_wrong_account_is_denied if {
	vars := {"deploy_role_arn": {"value": "arn:aws:iam::222222222222:role/deploy"}}
	result := findings({"aws": aws({"assume_role": role(refs(["var.deploy_role_arn"]))})}, vars)
	only_deny(result, "provider[\"aws\"]", "account 222222222222")
}

test_role_arn_template_with_account_variable if {
	# role_arn = "arn:aws:iam::${var.account_id}:role/deploy"
	e := {"assume_role": role(refs(["var.account_id"]))}
	clean(findings({"aws": aws(e)}, {"account_id": {"value": "111111111111"}}))
	only_deny(findings({"aws": aws(e)}, {"account_id": {"value": "222222222222"}}), "provider[\"aws\"]", "account 222222222222")
}

test_role_arn_template_with_only_a_role_name_variable_warns if {
	# role_arn = "arn:aws:iam::111111111111:role/${var.role_name}": the constant part is not in the plan.
	result := findings({"aws": aws({"assume_role": role(refs(["var.role_name"]))})}, {"role_name": {"value": "deploy"}})
	count(result.deny) == 0
	some w in result.warn
	contains(w.msg, "assume_role.role_arn depends on values that are unknown until apply")
}

test_role_arn_from_map_variable_key if {
	vars := {"roles": {"value": {"prod": "arn:aws:iam::111111111111:role/deploy", "dev": "arn:aws:iam::222222222222:role/deploy"}}}
	clean(findings({"aws": aws({"assume_role": role(refs(["var.roles[\"prod\"]", "var.roles"]))})}, vars))
	only_deny(findings({"aws": aws({"assume_role": role(refs(["var.roles[\"dev\"]", "var.roles"]))})}, vars), "provider[\"aws\"]", "222222222222")
}

test_role_arn_from_list_variable_index if {
	vars := {"roles": {"value": ["arn:aws:iam::111111111111:role/deploy"]}}
	clean(findings({"aws": aws({"assume_role": role(refs(["var.roles[0]", "var.roles"]))})}, vars))
}

test_role_arn_from_object_variable_attribute if {
	vars := {"target": {"value": {"role_arn": "arn:aws:iam::111111111111:role/deploy", "region": "eu-west-1"}}}
	clean(findings({"aws": aws({"assume_role": role(refs(["var.target.role_arn", "var.target"]))})}, vars))
}

test_role_arn_from_local_warns if {
	result := findings({"aws": aws({"assume_role": role(refs(["local.deploy_role_arn"]))})}, {})
	count(result.deny) == 0
	count(result.warn) == 1
	some w in result.warn
	w.address == "provider[\"aws\"]"
	contains(w.msg, "cannot be verified to pin the stack's account 111111111111")
}

test_missing_variable_warns if {
	result := findings({"aws": aws({"assume_role": role(refs(["var.deploy_role_arn"]))})}, {})
	count(result.deny) == 0
	count(result.warn) == 1
}

test_allowed_accounts_from_list_variable if {
	e := {"allowed_account_ids": refs(["var.allowed_account_ids"])}
	clean(findings({"aws": aws(e)}, {"allowed_account_ids": {"value": ["111111111111"]}}))
	only_deny(findings({"aws": aws(e)}, {"allowed_account_ids": {"value": ["222222222222"]}}), "provider[\"aws\"]", "allows only account 222222222222")
	only_deny(findings({"aws": aws(e)}, {"allowed_account_ids": {"value": ["111111111111", "333333333333"]}}), "provider[\"aws\"]", "also allows 333333333333")
}

test_allowed_accounts_from_element_variable if {
	# allowed_account_ids = [var.account_id]
	e := {"allowed_account_ids": refs(["var.account_id"])}
	clean(findings({"aws": aws(e)}, {"account_id": {"value": "111111111111"}}))
	result := findings({"aws": aws(e)}, {"account_id": {"value": "222222222222"}})
	count(result.deny) == 0
	count(result.warn) == 1
}

test_numeric_account_id_in_data if {
	p := plan({"aws": aws({"allowed_account_ids": const(["011111111111"])})}, {})
	count(account_pinned.deny) == 0 with input as p with data.planguard.stack as {"account_id": 11111111111}
	count(account_pinned.deny) == 1 with input as p with data.planguard.stack as {"account_id": 22222222222}
}

test_no_account_data_means_nothing if {
	p := plan({"aws": aws({"region": region}), "aws.x": aws({"allowed_account_ids": const(["222222222222"])})}, {})
	count(account_pinned.deny) == 0 with input as p
	count(account_pinned.warn) == 0 with input as p
	count(account_pinned.deny) == 0 with input as p with data.planguard.stack as {"name": "network"}
}

test_other_providers_are_ignored if {
	p := {"google": {"name": "google", "expressions": {"project": const("x")}}}
	clean(findings(p, {}))
}

test_no_configuration_means_nothing if {
	count(account_pinned.deny) == 0 with input as {"resource_changes": []} with data.planguard.stack as stack
}

test_empty_account_id_means_nothing if {
	p := plan({"aws": aws({"region": region})}, {})
	count(account_pinned.deny) == 0 with input as p with data.planguard.stack as {"account_id": ""}
}

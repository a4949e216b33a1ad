package planguard.safety.iam_wildcard_test

import data.planguard.safety.iam_wildcard
import rego.v1

rc(type, after, unknown, actions) := {
	"address": sprintf("%s.this", [type]),
	"type": type,
	"name": "this",
	"mode": "managed",
	"change": {"actions": actions, "before": null, "after": after, "after_unknown": unknown},
}

plan(rcs) := {"resource_changes": rcs}

policy_doc(statement) := json.marshal({"Version": "2012-10-17", "Statement": statement})

admin := {"Sid": "Admin", "Effect": "Allow", "Action": "*", "Resource": "*"}

test_admin_policy_is_denied_for_every_policy_type if {
	every type in ["aws_iam_policy", "aws_iam_role_policy", "aws_iam_user_policy", "aws_iam_group_policy"] {
		some r in iam_wildcard.deny with input as plan([rc(type, {"policy": policy_doc([admin])}, {}, ["create"])])
		r.address == sprintf("%s.this", [type])
		contains(r.msg, "statement \"Admin\" allows every action (`Action: \"*\"`)")
		contains(r.msg, "full administrative access")
	}
}

test_statement_object_and_list_forms_are_denied if {
	s := {"Effect": "Allow", "Action": ["s3:GetObject", "*:*"], "Resource": ["arn:aws:s3:::a/*", "*"]}
	some r in iam_wildcard.deny with input as plan([rc("aws_iam_policy", {"policy": policy_doc(s)}, {}, ["update"])])
	contains(r.msg, "statement #1 allows every action (`Action: \"*:*\"`)")
}

test_heredoc_policy_with_whitespace_is_denied if {
	text := "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\", \"Action\": [\"*\"], \"Resource\": [\"*\"]}\n  ]\n}\n"
	count(iam_wildcard.deny) == 1 with input as plan([rc("aws_iam_role_policy", {"policy": text}, {}, ["create"])])
}

test_second_statement_is_labelled if {
	doc := policy_doc([{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}, object.remove(admin, ["Sid"])])
	some r in iam_wildcard.deny with input as plan([rc("aws_iam_policy", {"policy": doc}, {}, ["create"])])
	contains(r.msg, "statement #2")
}

test_scoped_policies_pass if {
	# (`Action: "*"` on a scoped resource is denied: see test_every_action_on_a_specific_resource_is_denied.)
	docs := [
		policy_doc([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]),
		policy_doc([{"Effect": "Deny", "Action": "*", "Resource": "*"}]),
		policy_doc({"Effect": "Allow", "Action": ["ec2:Describe*"], "Resource": "*"}),
	]
	rcs := [rc("aws_iam_policy", {"policy": d}, {}, ["create"]) | some d in docs]
	count(iam_wildcard.deny) == 0 with input as plan(rcs)
	count(iam_wildcard.warn) == 0 with input as plan(rcs)
}

test_invalid_json_is_ignored if {
	count(iam_wildcard.deny) == 0 with input as plan([rc("aws_iam_policy", {"policy": "{not json"}, {}, ["create"])])
}

test_unknown_policy_warns if {
	input_plan := plan([rc("aws_iam_policy", {}, {"policy": true}, ["create"])])
	count(iam_wildcard.deny) == 0 with input as input_plan
	some w in iam_wildcard.warn with input as input_plan
	contains(w.msg, "`policy` is unknown until apply")
}

test_deleted_policies_are_not_checked if {
	count(iam_wildcard.deny) == 0 with input as plan([rc("aws_iam_policy", null, {}, ["delete"])])
}

test_unchanged_policies_are_checked_only_when_configured if {
	p := plan([rc("aws_iam_policy", {"policy": policy_doc([admin])}, {}, ["no-op"])])
	count(iam_wildcard.deny) == 0 with input as p
	count(iam_wildcard.deny) == 1 with input as p with data.planguard.config.check_unchanged as true
}

test_role_inline_policy_is_denied if {
	after := {"name": "ci", "inline_policy": [
		{"name": "read", "policy": policy_doc([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}])},
		{"name": "everything", "policy": policy_doc([admin])},
	]}
	findings := iam_wildcard.deny with input as plan([rc("aws_iam_role", after, {}, ["create"])])
	count(findings) == 1
	some r in findings
	contains(r.msg, "inline_policy \"everything\"")
}

test_role_inline_policy_unknown_warns if {
	after := {"name": "ci", "inline_policy": [{"name": "dyn"}]}
	unknown := {"inline_policy": [{"policy": true}]}
	some w in iam_wildcard.warn with input as plan([rc("aws_iam_role", after, unknown, ["create"])])
	contains(w.msg, "inline_policy \"dyn\"")
}

test_sso_inline_policy_is_denied if {
	count(iam_wildcard.deny) == 1 with input as plan([rc("aws_ssoadmin_permission_set_inline_policy", {"inline_policy": policy_doc([admin])}, {}, ["create"])])
}

data_doc(after, unknown) := object.union(rc("aws_iam_policy_document", after, unknown, ["read"]), {
	"address": "data.aws_iam_policy_document.this",
	"mode": "data",
	"action_reason": "read_because_config_unknown",
})

test_policy_document_read_during_apply_is_denied if {
	after := {"statement": [{"sid": "", "effect": "Allow", "actions": ["*"], "resources": ["*"]}]}
	some r in iam_wildcard.deny with input as plan([data_doc(after, {"json": true})])
	r.address == "data.aws_iam_policy_document.this"
}

test_policy_document_default_effect_is_allow if {
	after := {"statement": [{"effect": null, "actions": ["*"], "resources": ["*"], "sid": "All"}]}
	some r in iam_wildcard.deny with input as plan([data_doc(after, {"json": true})])
	contains(r.msg, "statement \"All\"")
}

test_policy_document_with_known_json_is_denied if {
	after := {"json": policy_doc([admin]), "statement": [{"effect": "Allow", "actions": ["*"], "resources": ["*"]}]}
	count(iam_wildcard.deny) == 1 with input as plan([data_doc(after, {})])
}

test_scoped_policy_document_passes if {
	after := {"statement": [
		{"effect": "Allow", "actions": ["s3:GetObject"], "resources": ["*"]},
		{"effect": "Deny", "actions": ["*"], "resources": ["*"]},
		{"effect": "Allow", "actions": ["*"], "resources": null},
	]}
	count(iam_wildcard.deny) == 0 with input as plan([data_doc(after, {"json": true})])
	count(iam_wildcard.warn) == 0 with input as plan([data_doc(after, {"json": true})])
}

test_both_wildcard_forms_in_one_statement_give_one_finding if {
	s := {"Effect": "Allow", "Action": ["*", "*:*"], "Resource": "*"}
	count(iam_wildcard.deny) == 1 with input as plan([rc("aws_iam_policy", {"policy": policy_doc([s])}, {}, ["create"])])
	after := {"statement": [{"effect": "Allow", "actions": ["*:*", "*"], "resources": ["*"]}]}
	count(iam_wildcard.deny) == 1 with input as plan([data_doc(after, {"json": true})])
}

test_every_action_on_a_specific_resource_is_denied if {
	s := {"Sid": "Bucket", "Effect": "Allow", "Action": "*", "Resource": ["arn:aws:s3:::data", "arn:aws:s3:::data/*"]}
	some r in iam_wildcard.deny with input as plan([rc("aws_iam_policy", {"policy": policy_doc([s])}, {}, ["create"])])
	contains(r.msg, "on arn:aws:s3:::data, arn:aws:s3:::data/*, which is full control of it")
}

test_specific_actions_on_a_specific_resource_pass if {
	s := {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::data/*"}
	count(iam_wildcard.deny) == 0 with input as plan([rc("aws_iam_policy", {"policy": policy_doc([s])}, {}, ["create"])])
}

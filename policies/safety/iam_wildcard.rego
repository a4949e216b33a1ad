# METADATA
# title: IAM policies do not allow every action on every resource
# description: |
#   A statement with `Effect: Allow`, `Action: "*"` and `Resource: "*"` grants full
#   administrative access: whoever holds the policy can read every secret, delete every
#   resource and create new credentials for themselves. One leaked key or compromised workload
#   then owns the account. Checked in identity policies (`aws_iam_policy`, `aws_iam_role_policy`,
#   `aws_iam_user_policy`, `aws_iam_group_policy`, `inline_policy` blocks of `aws_iam_role`,
#   SSO permission set inline policies) and in `aws_iam_policy_document` data sources when the
#   plan reads them.
# custom:
#   id: aws-iam-wildcard
#   level: error
#   resource_types: [aws_iam_policy, aws_iam_role_policy, aws_iam_user_policy, aws_iam_group_policy, aws_iam_role, aws_ssoadmin_permission_set_inline_policy, aws_iam_policy_document]
#   remediation: List the actions the principal needs (e.g. `s3:GetObject`) and the resources they apply to (ARNs). For administrators, attach the AWS managed `AdministratorAccess` policy to a role assumed through SSO with MFA rather than writing a wildcard policy.
#   checkov: [CKV_AWS_62, CKV_AWS_63, CKV_AWS_1]
#   trivy: [AVD-AWS-0057]
package planguard.safety.iam_wildcard

import data.planguard.lib
import rego.v1

policy_types := {"aws_iam_policy", "aws_iam_role_policy", "aws_iam_user_policy", "aws_iam_group_policy"}

# Every policy document a change carries, as {rc, path (in `after`), what (for messages)}.
documents contains {"rc": rc, "path": ["policy"], "what": "`policy`"} if {
	some rc in changes
	rc.type in policy_types
}

documents contains {"rc": rc, "path": ["inline_policy"], "what": "`inline_policy`"} if {
	some rc in changes
	rc.type == "aws_ssoadmin_permission_set_inline_policy"
}

documents contains {"rc": rc, "path": ["inline_policy", i, "policy"], "what": what} if {
	some rc in changes
	rc.type == "aws_iam_role"
	some i, block in planguard.value(rc, ["inline_policy"], [])
	is_object(block)
	what := sprintf("the `policy` of inline_policy %s", [statement_label(object.get(block, "name", ""), i)])
}

changes := [rc |
	some rc in input.resource_changes
	rc.mode == "managed"
	lib.produces_object(rc)
]

deny contains lib.result(d.rc, sprintf("%s: %s: statement %s allows every action (`Action: \"%s\"`) on every resource (`Resource: \"*\"`), which is full administrative access; %s", [d.rc.address, d.what, label, action, least])) if {
	some d in documents
	text := planguard.value(d.rc, d.path, null)
	is_string(text)
	json.is_valid(text)
	some i, statement in statements(json.unmarshal(text))
	action := admin_action(statement)
	label := statement_label(object.get(statement, "Sid", ""), i)
}

warn contains lib.unknown_result(d.rc, d.what) if {
	some d in documents
	planguard.unknown(d.rc, d.path)
}

# A data "aws_iam_policy_document" the plan reads during apply: its `json` is usually unknown
# then, but the statements written as constants are in `after`. (Documents read during plan
# are not in resource_changes; their `json` reaches the policies that use it.)
deny contains lib.result(rc, sprintf("%s: statement %s allows every action (`actions = [\"%s\"]`) on every resource (`resources = [\"*\"]`), which is full administrative access; %s", [rc.address, label, action, least])) if {
	some rc in input.resource_changes
	rc.mode == "data"
	rc.type == "aws_iam_policy_document"
	not known_json(rc)
	some i, s in planguard.value(rc, ["statement"], [])
	object.get(s, "effect", null) in {null, "Allow"}
	"*" in list_of(s, "resources")
	wildcards := [a | some a in list_of(s, "actions"); wildcard_action(a)]
	count(wildcards) > 0
	action := wildcards[0]
	label := statement_label(object.get(s, "sid", ""), i)
}

deny contains lib.result(rc, sprintf("%s: the policy document's statement %s allows every action (`Action: \"%s\"`) on every resource (`Resource: \"*\"`), which is full administrative access; %s", [rc.address, label, action, least])) if {
	some rc in input.resource_changes
	rc.mode == "data"
	rc.type == "aws_iam_policy_document"
	known_json(rc)
	some i, statement in statements(json.unmarshal(rc.change.after.json))
	action := admin_action(statement)
	label := statement_label(object.get(statement, "Sid", ""), i)
}

known_json(rc) if {
	text := planguard.value(rc, ["json"], null)
	is_string(text)
	json.is_valid(text)
}

# Every action on specific resources (what Checkov's CKV_AWS_63 reports): full control of
# those resources, including deleting them and rewriting who may use them.
deny contains lib.result(d.rc, sprintf("%s: %s: statement %s allows every action (`Action: \"%s\"`) on %s, which is full control of it, including deleting it and changing its access policy; %s", [d.rc.address, d.what, label, action, concat(", ", [sprintf("%v", [r]) | some r in resources]), least])) if {
	some d in documents
	text := planguard.value(d.rc, d.path, null)
	is_string(text)
	json.is_valid(text)
	some i, statement in statements(json.unmarshal(text))
	statement.Effect == "Allow"
	resources := as_list(object.get(statement, "Resource", []))
	count(resources) > 0
	not "*" in resources
	wildcards := [a | some a in as_list(object.get(statement, "Action", [])); wildcard_action(a)]
	count(wildcards) > 0
	action := wildcards[0]
	label := statement_label(object.get(statement, "Sid", ""), i)
}

# --- Policy document helpers ---------------------------------------------------------------------

statements(doc) := doc.Statement if is_array(doc.Statement)

statements(doc) := [doc.Statement] if is_object(doc.Statement)

least := "grant only the actions and resources that are needed"

# The wildcard action of an Allow statement on every resource.
admin_action(s) := wildcards[0] if {
	s.Effect == "Allow"
	"*" in as_list(object.get(s, "Resource", []))
	wildcards := [a | some a in as_list(object.get(s, "Action", [])); wildcard_action(a)]
	count(wildcards) > 0
}

wildcard_action(a) if a in {"*", "*:*"}

list_of(obj, key) := v if {
	v := object.get(obj, key, [])
	is_array(v)
} else := []

as_list(x) := x if is_array(x)

as_list(x) := [x] if not is_array(x)

# A statement's Sid (or an inline policy's name), else its position.
statement_label(sid, i) := sprintf("\"%s\"", [sid]) if {
	is_string(sid)
	sid != ""
} else := sprintf("#%d", [i + 1])

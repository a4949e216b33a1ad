# METADATA
# title: AWS providers are pinned to the stack's account
# description: |
#   A provider block that does not name its account applies to whatever account the runner's
#   credentials belong to. One wrong profile or environment variable and a plan made for
#   staging deletes production: the "destroy against the wrong account" incident. When the
#   stack's AWS account id is known (`data.planguard.stack.account_id`, passed by the server or
#   with `-d`), every AWS provider configuration must pin it, through `allowed_account_ids`
#   listing only that account, or an `assume_role` (or `assume_role_with_web_identity`) whose
#   `role_arn` is in that account; then a run with the wrong credentials fails instead of
#   changing another account. A provider that names a different account, or forbids the
#   stack's account in `forbidden_account_ids`, was written for another stack.
#   Expressions that reference input variables are resolved through the plan's `variables`;
#   other references cannot be checked before apply and give a warning. Without an account id
#   in the data, the policy checks nothing.
# custom:
#   id: aws-account-pinned
#   level: error
#   scope: configuration
#   remediation: In every `provider "aws"` block set `allowed_account_ids = ["<account id>"]` with the stack's account only, and/or assume a role in that account (`assume_role { role_arn = "arn:aws:iam::<account id>:role/<deploy role>" }`). If the provider names another account, the configuration or the stack's account id is wrong; fix whichever is.
package planguard.safety.account_pinned

import data.planguard.lib
import rego.v1

# --- The expected account and the providers -----------------------------------------------------

expected := account_string(lib.stack("account_id"))

account_string(x) := x if is_string(x)

# A YAML account id written without quotes arrives as a number; leading zeros are restored.
account_string(x) := pad12(format_int(x, 10)) if is_number(x)

pad12(s) := concat("", [substring("000000000000", 0, 12 - count(s)), s]) if {
	count(s) < 12
} else := s

# The AWS provider configurations (lib.aws_providers). Nothing without an account.
providers[key] := p if {
	is_string(expected)
	expected != ""
	input.configuration.provider_config[key]
	p := lib.aws_providers[key]
}

# `provider["aws.west"]`, or `module.app.provider["aws"]` for a provider block in a module.
provider_address(key) := sprintf("%s.provider[\"%s\"]", [parts[0], parts[1]]) if {
	parts := split(key, ":")
	count(parts) == 2
} else := sprintf("provider[\"%s\"]", [key])

# --- Findings --------------------------------------------------------------------------------------

deny contains {"msg": msg, "address": provider_address(key)} if {
	some key, p in providers
	f := forbidden(p)
	f.exact
	expected in f.accounts
	msg := sprintf("%s: the AWS provider %q lists the stack's account %s in forbidden_account_ids: it was written for another account", [provider_address(key), key, expected])
}

deny contains {"msg": msg, "address": provider_address(key)} if {
	some key, p in providers
	a := allowed(p)
	wrong_allowed(a)
	msg := sprintf("%s: the AWS provider %q allows only account %s (allowed_account_ids), but this stack's account is %s: the configuration targets a different account", [provider_address(key), key, concat(", ", sort(a.accounts)), expected])
}

deny contains {"msg": msg, "address": provider_address(key)} if {
	some key, p in providers
	some r in roles(p)
	wrong_role(r)
	msg := sprintf("%s: the AWS provider %q assumes a role in account %s (%s.role_arn), but this stack's account is %s: the configuration targets a different account", [provider_address(key), key, concat(", ", sort(r.accounts)), r.block, expected])
}

deny contains {"msg": msg, "address": provider_address(key)} if {
	some key, p in providers
	not pinned(p)
	not points_elsewhere(p)
	not unverifiable(p)
	msg := sprintf("%s: the AWS provider %q is not pinned to the stack's account %s%s: set allowed_account_ids = [\"%s\"] or assume a role in that account, so that a run with the wrong credentials fails instead of changing another account", [provider_address(key), key, expected, extra_accounts_note(p), expected])
}

warn contains {"msg": msg, "address": provider_address(key)} if {
	some key, p in providers
	not pinned(p)
	not points_elsewhere(p)
	unverifiable(p)
	msg := sprintf("%s: the AWS provider %q cannot be verified to pin the stack's account %s: %s depends on values that are unknown until apply (only input variables are resolved)", [provider_address(key), key, expected, concat(" and ", sort(unknown_attrs(p)))])
}

# --- What a provider pins --------------------------------------------------------------------------

pinned(p) if allowed(p).accounts == {expected}

pinned(p) if {
	some r in roles(p)
	r.accounts == {expected}
}

points_elsewhere(p) if wrong_allowed(allowed(p))

points_elsewhere(p) if {
	some r in roles(p)
	wrong_role(r)
}

points_elsewhere(p) if {
	f := forbidden(p)
	f.exact
	expected in f.accounts
}

wrong_allowed(a) if {
	a.exact
	count(a.accounts) > 0
	not expected in a.accounts
}

wrong_role(r) if {
	count(r.accounts) > 0
	not expected in r.accounts
}

unverifiable(p) if not allowed(p).known

unverifiable(p) if {
	# Only part of the list could be read, and that part does not hold the account.
	a := allowed(p)
	a.known
	not a.exact
}

unverifiable(p) if {
	some r in roles(p)
	not r.known
}

unknown_attrs(p) := {"allowed_account_ids" | unverifiable_allowed(p)} | {sprintf("%s.role_arn", [r.block]) | some r in roles(p); not r.known}

unverifiable_allowed(p) if not allowed(p).known

unverifiable_allowed(p) if not allowed(p).exact

extra_accounts_note(p) := sprintf(" (allowed_account_ids also allows %s)", [concat(", ", sort(others))]) if {
	a := allowed(p)
	expected in a.accounts
	others := a.accounts - {expected}
	count(others) > 0
} else := ""

# allowed_account_ids as {known, exact, accounts}: `exact` when the whole list was read (a
# constant, or one variable holding the list). Absent attribute: known, exact, no accounts.
allowed(p) := account_list(p, "allowed_account_ids")

forbidden(p) := account_list(p, "forbidden_account_ids")

account_list(p, attr) := {"known": r.known, "exact": r.exact, "accounts": {s | some s in r.values; is_string(s)}} if {
	r := resolve(p.expressions[attr])
} else := {"known": true, "exact": true, "accounts": set()}

# The role ARNs of assume_role and assume_role_with_web_identity blocks, each as
# {block, known, accounts}. A role ARN built from variables is known when the variables
# name an account (a whole ARN, or a 12-digit account id in a template).
roles(p) := [role |
	some attr in ["assume_role", "assume_role_with_web_identity"]
	some block in blocks(object.get(p, ["expressions", attr], []))
	expr := block.role_arn
	r := resolve(expr)
	accounts := {a | some s in r.values; some a in accounts_in(s)}
	role := {"block": attr, "known": role_known(r, accounts), "accounts": accounts}
]

role_known(r, _) if {
	r.known
	r.constant
}

role_known(r, accounts) if {
	r.known
	count(accounts) > 0
}

default role_known(_, _) := false

blocks(x) := x if is_array(x)

blocks(x) := [x] if is_object(x)

accounts_in(s) := {regex.replace(s, `^arn:aws[a-zA-Z-]*:iam::([0-9]{12}):.*$`, "$1")} if {
	regex.match(`^arn:aws[a-zA-Z-]*:iam::[0-9]{12}:`, s)
} else := {s} if {
	regex.match(`^[0-9]{12}$`, s)
} else := set()

# --- Resolving provider expressions ------------------------------------------------------------------

# An expression as {known, exact, constant, values}: the strings it is made of, from its
# constant value or from the input variables it references.
resolve(expr) := {"known": true, "exact": true, "constant": true, "values": string_values(expr.constant_value)} if {
	expr.constant_value != null
} else := {"known": known, "exact": exact, "constant": false, "values": values} if {
	refs := [ref | some ref in expr.references; not narrower_ref(ref, expr.references)]
	count(refs) > 0
	resolved := [v | some ref in refs; v := variable_value(ref)]
	known := count(resolved) == count(refs)
	exact := exact_list(refs, resolved)
	values := {s | some v in resolved; some s in string_values(v)}
} else := {"known": false, "exact": false, "constant": false, "values": set()}

# Terraform lists both `var.roles["prod"]` and `var.roles`; the narrower one is what is used.
narrower_ref(ref, refs) if {
	some other in refs
	other != ref
	strings.any_prefix_match(other, {concat("", [ref, "["]), concat("", [ref, "."])})
}

# The whole expression is one variable holding a list (`allowed_account_ids = var.accounts`).
exact_list(refs, resolved) if {
	count(refs) == 1
	count(resolved) == 1
	is_array(resolved[0])
}

default exact_list(_, _) := false

# The value of `var.name`, `var.name["key"]`, `var.name[0]` or `var.name.attr` from the plan's
# variables; undefined for other references.
variable_value(ref) := value if {
	regex.match(`^var\.[A-Za-z_][A-Za-z0-9_-]*`, ref)
	name := regex.replace(ref, `^var\.([A-Za-z_][A-Za-z0-9_-]*).*$`, "$1")
	rest := substring(ref, count(name) + 4, -1)
	tokens := regex.find_n(`\["[^"]*"\]|\[[0-9]+\]|\.[A-Za-z_][A-Za-z0-9_-]*`, rest, -1)
	concat("", tokens) == rest
	path := [step(t) | some t in tokens]
	some value in [x | walk(input.variables[name].value, [at, x]); at == path]
	value != null
}

step(t) := to_number(trim(t, "[]")) if regex.match(`^\[[0-9]+\]$`, t)

step(t) := trim_suffix(trim_prefix(t, "[\""), "\"]") if startswith(t, "[\"")

step(t) := trim_prefix(t, ".") if startswith(t, ".")

# Every string in a value (numbers as 12-digit account ids).
string_values(v) := {s |
	walk(v, [_, x])
	s := scalar_string(x)
}

scalar_string(x) := x if is_string(x)

scalar_string(x) := pad12(format_int(x, 10)) if {
	is_number(x)
	x == floor(x)
}

# Helpers shared by the encryption policies: telling a value that is unknown until apply from
# an argument the configuration leaves to a provider or AWS default, KMS key arguments, the
# account's EBS default encryption, and the S3 bucket encryption resources.
package planguard.encryption.helpers

import data.planguard.lib
import rego.v1

# --- Unknown, unset and known values ---------------------------------------------------------

# True when the value at `path` (e.g. ["root_block_device", 0, "encrypted"]) is unknown until
# apply: the value itself, or an enclosing block that is unknown as a whole (a computed block
# the configuration does not write, such as an instance's root_block_device).
# (planguard.unknown(rc, path), or the marker of a prefix of `path` is true: a planguard builtin.)
unknown(rc, path) if planguard.unknown_here_or_above(rc, path)

# The configuration expression of the argument at `path`, e.g. {"constant_value": true} or
# {"references": ["aws_kms_key.main.arn", "aws_kms_key.main"]}; undefined when not written.
expression(rc, path) := e if {
	e := object.get(planguard.config_block(lib.root_module, rc), array.concat(["expressions"], path), null)
	e != null
}

# True when the configuration of `rc` is in the plan and writes the argument at `path`.
set_in_config(rc, path) if expression(rc, path)

# True when the configuration of `rc` is in the plan and does not write the argument at `path`
# (nor, for a nested argument, its block), so the provider or AWS default applies.
unset_in_config(rc, path) if {
	planguard.config_block(lib.root_module, rc)
	not set_in_config(rc, path)
}

# True when the value at `path` is unknown until apply and the configuration sets it (or there
# is no configuration to tell): the value cannot be checked before apply.
pending(rc, path) if {
	planguard.unknown_here_or_above(rc, path)
	not unset_in_config(rc, path)
}

# True when nothing sets the value at `path`: the configuration leaves it out (the plan shows a
# computed value as unknown), or the planned value is null.
defaulted(rc, path) if {
	planguard.unknown_here_or_above(rc, path)
	unset_in_config(rc, path)
}

defaulted(rc, path) if {
	not planguard.unknown_here_or_above(rc, path)
	planguard.value(rc, path, null) == null
}

# The planned value at `path` when it is known and not null.
known(rc, path) := v if {
	not planguard.unknown_here_or_above(rc, path)
	v := planguard.value(rc, path, null)
	v != null
}

# The value a setting will have: the planned value, or `default_value` when nothing sets it.
# Undefined when it is unknown until apply (see `pending`).
setting(rc, path, default_value) := known(rc, path)

setting(rc, path, default_value) := default_value if defaulted(rc, path)

# For messages: " (not set, so the default applies)" when the configuration does not write the
# argument (a provider default may show as a planned value) or nothing sets it, else "".
default_note(rc, path) := " (not set, so the default applies)" if {
	unset_in_config(rc, path)
} else := " (not set, so the default applies)" if {
	defaulted(rc, path)
} else := ""

# True when an argument that points at something (a source database, a snapshot, a block) is
# given: a known non-empty value, or a value unknown until apply that the configuration sets.
given(rc, path) if {
	v := known(rc, path)
	not v in {"", false, [], {}}
}

given(rc, path) if pending(rc, path)

# The warning for a database or volume restored from a snapshot, whose encryption then comes from
# the snapshot: `setting_name` names the encryption argument, `snapshot` the snapshot argument.
restored_message(rc, setting_name, snapshot) := sprintf(
	"%s: %s is not true, so it takes the encryption of the snapshot it is restored from (%s), which the plan cannot show",
	[rc.address, setting_name, v],
) if {
	v := known(rc, [snapshot])
} else := sprintf(
	"%s: %s is not true and %s is unknown until apply: restored from a snapshot, it takes the snapshot's encryption; otherwise it is not encrypted",
	[rc.address, setting_name, snapshot],
)

# --- KMS keys --------------------------------------------------------------------------------

# True when a key argument (kms_key_id, kms_key_arn, ...) names a key: a known non-empty value,
# or a value unknown until apply that the configuration sets, typically the ARN of a key
# created in the same plan. Which key it is does not matter here, only that one is set.
key_set(rc, path) if {
	v := known(rc, path)
	v != ""
}

key_set(rc, path) if pending(rc, path)

# True when a key argument explicitly names the AWS managed key of a service, e.g.
# "alias/aws/secretsmanager", which is what AWS uses when no key is set.
aws_managed_alias(rc, path) if {
	v := known(rc, path)
	is_string(v)
	regex.match(`(^|:)alias/aws/`, v)
}

# --- Context resources -----------------------------------------------------------------------

# Managed resources of `kind` that exist after this plan: created, updated, replaced or
# unchanged, but not deleted. Used for context resources (the EBS default, S3 encryption).
# A function is evaluated again at every call, so callers that test many resources read the
# rules below, which evaluate once per evaluation (not once per resource tested).
live(kind) := [rc |
	some rc in input.resource_changes
	rc.type == kind
	rc.mode == "managed"
	is_object(rc.change.after)
]

# The live aws_ebs_encryption_by_default and aws_s3_bucket_logging changes.
live_ebs_defaults := live("aws_ebs_encryption_by_default")

live_logging := live("aws_s3_bucket_logging")

# The provider configuration a change uses, without its module prefix: "aws", "aws.us_east_1".
provider_key(rc) := k if {
	raw := planguard.config_block(lib.root_module, rc).provider_config_key
	parts := split(raw, ":")
	k := parts[count(parts) - 1]
} else := "aws"

# The constant region of that provider configuration, or null.
region(rc) := r if {
	p := input.configuration.provider_config[provider_key(rc)]
	r := lib.provider_constant(p, "region")
	r != null
} else := null

# True when two changes are managed through the same AWS provider configuration or region.
same_region(a, b) if provider_key(a) == provider_key(b)

same_region(a, b) if {
	region(a) != null
	region(a) == region(b)
}

# --- EBS default encryption ------------------------------------------------------------------

# `aws_ebs_encryption_by_default` changes in the plan for the region of `rc`.
ebs_defaults(rc) := [d |
	some d in live_ebs_defaults
	same_region(rc, d)
]

# True when new EBS volumes in the region of `rc` are encrypted by default: the plan enables
# the account's EBS default encryption there (`enabled` defaults to true), or the library
# setting `ebs_default_encryption` says it is enabled outside this configuration and the plan
# does not turn it off.
ebs_default_on(rc) if {
	some d in ebs_defaults(rc)
	setting(d, ["enabled"], true) == true
}

ebs_default_on(rc) if {
	lib.config("ebs_default_encryption", false) == true
	not ebs_default_off(rc)
}

# The aws_ebs_encryption_by_default changes in the plan that turn it off in the region of `rc`.
ebs_defaults_off(rc) := sort([d.address |
	some d in ebs_defaults(rc)
	setting(d, ["enabled"], true) == false
])

ebs_default_off(rc) if count(ebs_defaults_off(rc)) > 0

# Why a volume whose `encrypted` is not set may be unencrypted, for messages.
ebs_default_reason(rc) := sprintf("this plan turns the account's EBS default encryption off (%s)", [concat(", ", ebs_defaults_off(rc))]) if {
	ebs_default_off(rc)
} else := "this plan does not enable the account's EBS default encryption (set the planguard option ebs_default_encryption if it is enabled elsewhere)"

# --- S3 --------------------------------------------------------------------------------------

kms_algorithms := {"aws:kms", "aws:kms:dsse"}

# What the aws_s3_bucket_server_side_encryption_configuration resources point at, indexed
# once per evaluation (see lib.targets): testing a bucket is then a set lookup, not a scan.
sse_targets := lib.targets("aws_s3_bucket_server_side_encryption_configuration", "bucket")

# True when an encryption configuration resource applies to `bucket`.
has_sse_config(bucket) if lib.targeted(bucket, sse_targets, "bucket")

# True when the bucket itself carries a (legacy, deprecated) inline
# server_side_encryption_configuration block. Without configuration in the plan, a planned
# value counts.
inline_sse(bucket) if set_in_config(bucket, ["server_side_encryption_configuration"])

inline_sse(bucket) if {
	not planguard.config_block(lib.root_module, bucket)
	count(planguard.value(bucket, ["server_side_encryption_configuration"], [])) > 0
}

# The paths of the sse_algorithm values of an encryption configuration's rules; `base` is []
# for the separate resource and ["server_side_encryption_configuration", 0] for a bucket.
sse_algorithm_paths(rc, base) := [array.concat(base, ["rule", i, "apply_server_side_encryption_by_default", 0, "sse_algorithm"]) |
	some i, _ in planguard.value(rc, array.concat(base, ["rule"]), [])
]

# The known algorithms of those rules that are not KMS (e.g. "AES256").
non_kms_algorithms(rc, base) := {a |
	some path in sse_algorithm_paths(rc, base)
	a := known(rc, path)
	not a in kms_algorithms
}

# True when the algorithm of a rule is unknown until apply, or the rules themselves are.
sse_pending(rc, base) if {
	some path in sse_algorithm_paths(rc, base)
	pending(rc, path)
}

sse_pending(rc, base) if pending(rc, array.concat(base, ["rule"]))

# True when `bucket` receives S3 server access logs (the target of an aws_s3_bucket_logging):
# log delivery writes with SSE-S3 only, so such a bucket cannot require SSE-KMS.
log_target(bucket) if lib.targeted(bucket, log_targets, "bucket")

log_targets := lib.targets("aws_s3_bucket_logging", "target_bucket")

# The same for the bucket an encryption configuration applies to.
sse_on_log_target(sse) if {
	some lg in live_logging
	same_target(sse, "bucket", lg, "target_bucket")
}

# True when `a`'s `attr_a` and `b`'s `attr_b` name the same thing in the same module: both
# reference the same resource, or both are the same known value.
same_target(a, attr_a, b, attr_b) if {
	planguard.module_path(a) == planguard.module_path(b)
	some ref in lib.references(a, attr_a)
	not startswith(ref, "each.")
	not startswith(ref, "count.")
	not startswith(ref, "var.")
	not startswith(ref, "local.")
	ref in lib.references(b, attr_b)
}

same_target(a, attr_a, b, attr_b) if {
	v := planguard.value(a, [attr_a], null)
	is_string(v)
	v != ""
	v == planguard.value(b, [attr_b], null)
}

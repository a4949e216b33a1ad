# METADATA
# title: Launch template EBS volumes are encrypted at rest
# description: |
#   Every instance launched from the template (by hand, an Auto Scaling group or an EKS node
#   group) gets the template's EBS volumes. A mapping that leaves `encrypted` unset takes the
#   snapshot's encryption or the account's EBS default encryption for the region.
# custom:
#   id: aws-ec2-launch-template-volume-encryption
#   level: error
#   resource_types: [aws_launch_template]
#   context_types: [aws_ebs_encryption_by_default]
#   remediation: Set `encrypted = "true"` in the `ebs` block of every `block_device_mappings` entry (the provider takes a string), or enable account-wide default encryption with `aws_ebs_encryption_by_default` (or set the planguard option `ebs_default_encryption` when it is enabled outside this configuration).
package planguard.encryption.ec2_launch_template_volume_encryption

import data.planguard.encryption.helpers
import data.planguard.lib
import rego.v1

# The EBS mappings of a template, as [index, device name, path of `encrypted`].
ebs_mappings(rc) := [[i, object.get(m, "device_name", "?"), ["block_device_mappings", i, "ebs", 0, "encrypted"]] |
	some i, m in planguard.value(rc, ["block_device_mappings"], [])
	count(object.get(m, "ebs", [])) > 0
]

deny contains lib.result(rc, sprintf("%s: EBS volume %s is not encrypted (encrypted = \"false\")", [rc.address, name])) if {
	some rc in lib.changes("aws_launch_template")
	some mapping in ebs_mappings(rc)
	[_, name, path] := mapping
	helpers.known(rc, path) in {false, "false"}
}

deny contains lib.result(rc, msg) if {
	some rc in lib.changes("aws_launch_template")
	some mapping in ebs_mappings(rc)
	[_, name, path] := mapping
	unset(rc, path)
	not helpers.ebs_default_on(rc)
	msg := sprintf(
		"%s: EBS volume %s does not set encrypted = \"true\", so only an encrypted snapshot or the account's EBS default encryption would encrypt it, and %s",
		[rc.address, name, helpers.ebs_default_reason(rc)],
	)
}

warn contains lib.unknown_result(rc, sprintf("`encrypted` of EBS volume %s", [name])) if {
	some rc in lib.changes("aws_launch_template")
	some mapping in ebs_mappings(rc)
	[_, name, path] := mapping
	helpers.pending(rc, path)
}

# The provider shows an unset `encrypted` as "" (or null).
unset(rc, path) if helpers.defaulted(rc, path)

unset(rc, path) if helpers.known(rc, path) == ""

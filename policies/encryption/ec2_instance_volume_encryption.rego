# METADATA
# title: EC2 instance volumes are encrypted at rest
# description: |
#   The root and EBS volumes an instance creates hold its disk in clear unless they are
#   encrypted. A block that leaves `encrypted` unset (or no root_block_device at all) takes the
#   encryption of the AMI or snapshot, or the account's EBS default encryption for the region.
# custom:
#   id: aws-ec2-instance-volume-encryption
#   level: error
#   resource_types: [aws_instance, aws_launch_configuration]
#   context_types: [aws_ebs_encryption_by_default]
#   remediation: Set `encrypted = true` in `root_block_device` and in every `ebs_block_device` block, or enable account-wide default encryption with `aws_ebs_encryption_by_default` (or set the planguard option `ebs_default_encryption` when it is enabled outside this configuration).
#   checkov: [CKV_AWS_8]
#   trivy: [AVD-AWS-0131]
package planguard.encryption.ec2_instance_volume_encryption

import data.planguard.encryption.helpers
import data.planguard.lib
import rego.v1

root := ["root_block_device", 0, "encrypted"]

# Instances, and launch configurations, whose block devices have the same shape.
instances := array.concat(lib.changes("aws_instance"), lib.changes("aws_launch_configuration"))

# --- Root volume -----------------------------------------------------------------------------

deny contains lib.result(rc, sprintf("%s: root volume is not encrypted (root_block_device.encrypted = false)", [rc.address])) if {
	some rc in instances
	helpers.known(rc, root) == false
}

deny contains lib.result(rc, msg) if {
	some rc in instances
	helpers.defaulted(rc, root)
	not helpers.ebs_default_on(rc)
	msg := sprintf(
		"%s: root volume does not set root_block_device.encrypted = true, so only an encrypted AMI snapshot or the account's EBS default encryption would encrypt it, and %s",
		[rc.address, helpers.ebs_default_reason(rc)],
	)
}

warn contains lib.unknown_result(rc, "`root_block_device.encrypted`") if {
	some rc in instances
	helpers.pending(rc, root)
}

# --- EBS block devices (a set, matched to the configuration by device_name) -------------------

deny contains lib.result(rc, sprintf("%s: EBS block device %s is not encrypted (encrypted = false)", [rc.address, object.get(dev, "device_name", "?")])) if {
	some rc in instances
	some i, dev in planguard.value(rc, ["ebs_block_device"], [])
	not planguard.unknown_here_or_above(rc, ["ebs_block_device", i, "encrypted"])
	object.get(dev, "encrypted", null) == false
}

deny contains lib.result(rc, msg) if {
	some rc in instances
	some i, dev in planguard.value(rc, ["ebs_block_device"], [])
	device_unset(rc, i, dev)
	not helpers.ebs_default_on(rc)
	msg := sprintf(
		"%s: EBS block device %s does not set encrypted = true, so only an encrypted snapshot or the account's EBS default encryption would encrypt it, and %s",
		[rc.address, object.get(dev, "device_name", "?"), helpers.ebs_default_reason(rc)],
	)
}

warn contains lib.unknown_result(rc, sprintf("`encrypted` of EBS block device %s", [object.get(dev, "device_name", "?")])) if {
	some rc in instances
	some i, dev in planguard.value(rc, ["ebs_block_device"], [])
	planguard.unknown_here_or_above(rc, ["ebs_block_device", i, "encrypted"])
	not device_unset(rc, i, dev)
}

device_unset(rc, i, dev) if {
	not planguard.unknown_here_or_above(rc, ["ebs_block_device", i, "encrypted"])
	object.get(dev, "encrypted", null) == null
}

device_unset(rc, i, dev) if {
	planguard.unknown_here_or_above(rc, ["ebs_block_device", i, "encrypted"])
	block := config_device(rc, dev)
	not block.encrypted
}

# The configuration block of a device, found by its constant device_name.
config_device(rc, dev) := block if {
	some block in object.get(lib.config_block(rc), ["expressions", "ebs_block_device"], [])
	block.device_name.constant_value == dev.device_name
}

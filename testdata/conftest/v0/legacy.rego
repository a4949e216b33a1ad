package legacy

deny[msg] {
	rc := input.resource_changes[_]
	rc.type == "aws_instance"
	not startswith(rc.change.after.ami, "ami-")
	msg := sprintf("%s: AMI id looks wrong", [rc.address])
}

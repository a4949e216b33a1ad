package aws.compute

import data.lib.terraform as tf
import rego.v1

deny_imdsv1 contains tf.msg(rc, "instance allows IMDSv1") if {
	some rc in tf.by_type.aws_instance
	some options in object.get(rc.change.after, "metadata_options", [{}])
	object.get(options, "http_tokens", "optional") != "required"
}

deny_root_unencrypted contains tf.msg(rc, "root volume is not encrypted") if {
	some rc in tf.by_type.aws_instance
	some device in object.get(rc.change.after, "root_block_device", [])
	not device.encrypted
}

deny_public_ip contains tf.msg(rc, "instance gets a public IP address") if {
	some rc in tf.by_type.aws_instance
	rc.change.after.associate_public_ip_address == true
}

warn_no_monitoring contains tf.msg(rc, "detailed monitoring is off") if {
	some rc in tf.by_type.aws_instance
	not rc.change.after.monitoring
}

deny_lambda_runtime contains tf.msg(rc, sprintf("runtime %s is deprecated", [runtime])) if {
	some rc in tf.by_type.aws_lambda_function
	runtime := rc.change.after.runtime
	runtime in {"python3.7", "python3.8", "nodejs14.x", "nodejs16.x", "go1.x"}
}

deny_lambda_env_secrets contains tf.msg(rc, sprintf("environment variable %s looks like a secret", [name])) if {
	some rc in tf.by_type.aws_lambda_function
	some env in object.get(rc.change.after, "environment", [])
	some name, _ in object.get(env, "variables", {})
	regex.match(`(?i)(secret|password|token)`, name)
}

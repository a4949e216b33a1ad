package aws.iam

import data.lib.terraform as tf
import rego.v1

deny_wildcard_action contains tf.msg(rc, "policy allows every action") if {
	some [rc, statement] in tf.iam_statements
	statement.Effect == "Allow"
	"*" in tf.as_array(statement.Action)
}

deny_wildcard_resource_write contains tf.msg(rc, "policy allows writes on every resource") if {
	some [rc, statement] in tf.iam_statements
	statement.Effect == "Allow"
	"*" in tf.as_array(object.get(statement, "Resource", []))
	some action in tf.as_array(statement.Action)
	regex.match(`:(Put|Delete|Create|Update)`, action)
}

deny_role_session contains tf.msg(rc, "role sessions may last more than 4 hours") if {
	some rc in tf.by_type.aws_iam_role
	rc.change.after.max_session_duration > 14400
}

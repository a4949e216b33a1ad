package main

deny[msg] {
	rc := input.resource_changes[_]
	re_match("^aws_s3_", rc.type)
	any([rc.change.after.acl == "public-read", false])
	msg := sprintf("%s: public bucket", [rc.address])
}

deny[msg] {
	rc := input.resource_changes[_]
	all([rc.type == "aws_instance", startswith(rc.change.after.ami, "ami-")])
	net.cidr_overlap("10.0.0.0/8", "10.1.2.3")
	count(set_diff({"a", "b"}, {"b"})) == 1
	cast_array({1}) == [1]
	cast_set([1, 1]) == {1}
	cast_string("s") == "s"
	cast_boolean(true)
	cast_null(null) == null
	cast_object({"a": 1}) == {"a": 1}
	msg := sprintf("%s: instance", [rc.address])
}

# Chained bodies: two definitions of the same rule.
warn[msg] {
	rc := input.resource_changes[_]
	rc.type == "aws_instance"
	msg := sprintf("%s: first body", [rc.address])
} {
	rc := input.resource_changes[_]
	rc.type == "aws_db_instance"
	msg := sprintf("%s: second body", [rc.address])
}

violation[msg] {
	not all([])
	msg := "all([]) is false"
} {
	not any([])
	msg := "any([]) is false"
}

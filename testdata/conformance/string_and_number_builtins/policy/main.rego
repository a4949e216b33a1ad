package main

import rego.v1

deny contains sprintf("%v", [[
	trim_prefix("aws_s3_bucket", "aws_"),
	split("a.b.c", "."),
	concat("-", ["x", "y"]),
	format_int(255, 16),
	to_number("12.5"),
	round(2.5),
	3 / 2,
	7 % 3,
	regex.match("^aws_", "aws_x"),
	json.marshal({"b": 1, "a": [true]}),
	object.get({}, ["a", "b"], "d"),
	array.slice([1, 2, 3], 1, 5),
	lower("ABC"),
	indexof("hello", "l"),
	substring("hello", 1, 3),
	sum([1, 2.5]),
]])

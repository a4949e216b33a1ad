package planguard.lib_test
import data.planguard.lib
import rego.v1
test_module_path if {
	lib.module_path({"module_address": "module.vpc[0].module.subnets"}) == ["vpc", "subnets"]
	lib.module_path({"module_address": "module.a[\"x.y\"]"}) == ["a"]
	lib.module_path({}) == []
}
test_nested_blocks if {
	b := lib.config_block({"type": "aws_s3_bucket", "name": "b", "module_address": "module.m.module.n"}) with input as {"configuration": {"root_module": {"module_calls": {"m": {"module": {"module_calls": {"n": {"module": {"resources": [{"address": "aws_s3_bucket.b", "x": 1}]}}}}}}}}}
	b.x == 1
}

package fugue.regula.config

import data.fugue
import rego.v1

# A sub-package of fugue that reads fugue: evaluating all of data.fugue would recurse.
buckets := fugue.resources("aws_s3_bucket")

package main

import rego.v1

is_public(rc) if rc.change.after.acl == "public-read"

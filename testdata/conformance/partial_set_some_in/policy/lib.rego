package main

import rego.v1

has_tags(rc) if count(object.get(rc.change.after, "tags", {})) > 0

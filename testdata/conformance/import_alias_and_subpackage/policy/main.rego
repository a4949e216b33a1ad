package main

import data.lib.util as u
import data.lib
import rego.v1

deny contains sprintf("alias %s", [a]) if some a in u.addresses("aws_instance")

deny contains sprintf("parent %s", [a]) if some a in lib.util.addresses("aws_db_instance")

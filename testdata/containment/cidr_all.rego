package cidr_all

import rego.v1

# Every IPv4 address: the allocation aborted the process.
deny contains "never" if count(net.cidr_expand("0.0.0.0/0")) > 0

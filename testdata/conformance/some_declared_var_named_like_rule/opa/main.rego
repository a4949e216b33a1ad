package main

import rego.v1

deny contains msg if {
  p := data.rules.tags.policy[_]
  not p.valid
  msg := sprintf("%s: untagged", [p.id])
}

warn contains msg if {
  msg := sprintf("%d taggable, %d listed, %d judged", [count(data.rules.tags.taggable_resources), count(data.rules.tags.taggable_list), count(data.rules.tags.policy)])
}

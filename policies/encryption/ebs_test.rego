package planguard.encryption.ebs_test

import data.planguard.encryption.ebs
import rego.v1

volume(after, unknown, actions) := {"resource_changes": [{
	"address": "aws_ebs_volume.data",
	"type": "aws_ebs_volume",
	"name": "data",
	"mode": "managed",
	"change": {"actions": actions, "after": after, "after_unknown": unknown},
}]}

test_unencrypted_volume_is_denied if {
	some r in ebs.deny with input as volume({"encrypted": false}, {}, ["create"])
	r.address == "aws_ebs_volume.data"
	contains(r.msg, "not encrypted")
}

test_missing_encrypted_attribute_is_denied if {
	count(ebs.deny) == 1 with input as volume({}, {}, ["create"])
}

test_encrypted_volume_passes if {
	count(ebs.deny) == 0 with input as volume({"encrypted": true}, {}, ["create"])
	count(ebs.warn) == 0 with input as volume({"encrypted": true}, {}, ["create"])
}

test_unknown_encryption_warns_but_does_not_deny if {
	count(ebs.deny) == 0 with input as volume({}, {"encrypted": true}, ["create"])
	count(ebs.warn) == 1 with input as volume({}, {"encrypted": true}, ["create"])
}

test_deleting_an_unencrypted_volume_is_not_an_encryption_finding if {
	count(ebs.deny) == 0 with input as volume(null, {}, ["delete"])
}

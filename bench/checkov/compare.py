#!/usr/bin/env python3
"""Compare planguard's built-in policy library with Checkov on the AWS plans of the corpus.

Reads the outputs that bench/checkov/run.sh writes into RESULTS:

    RESULTS/checkov/<plan>.json     checkov -f PLAN --framework terraform_plan -o json --skip-download
    RESULTS/planguard/<plan>.json   planguard check PLAN --format json
    RESULTS/planguard-unchanged/<plan>.json
                                    the same with check_unchanged: true (-d unchanged.yaml)
    RESULTS/planguard-like/<plan>.json
                                    check_unchanged: true and s3_require_kms: true (-d like.yaml)

(<plan> is the plan's path under the corpus with "/" replaced by "_"), builds the mapping
Checkov id <-> planguard policy id from the `custom.checkov` lists in the policies' METADATA
blocks, and matches findings by (resource address, equivalent check).

Two ids are "equivalent" when they are connected through the mapping: CKV_AWS_145 maps to both
aws-s3-bucket-kms and aws-s3-sse-kms, so those three form one class; aws-iam-wildcard maps to
CKV_AWS_1, CKV_AWS_62 and CKV_AWS_63, so those four form one class.

Output: a summary on stdout and, with --json, every difference with the facts needed to
explain it (the resource's actions in resource_changes, whether it is in planned_values, the
Checkov result for the equivalent checks, planguard's messages).

    python3 bench/checkov/compare.py --corpus testdata/corpus/plans --results /tmp/pg-ckv \
        --policies policies [--json diffs.json] [--mapping-md]
"""
import argparse
import collections
import json
import os
import re
import sys


# The planguard runs (directories under RESULTS), see run.sh:
#   planguard            default settings: only create/update/replace changes are checked
#   planguard-unchanged  check_unchanged: true, so no-op resources are checked as Checkov does
#   planguard-like       check_unchanged: true and s3_require_kms: true (CKV_AWS_145 always
#                        requires SSE-KMS; planguard's KMS policies are off unless asked for)
RUNS = ("planguard", "planguard-unchanged", "planguard-like")


def parse_metadata(policies_dir):
    """planguard policy id -> list of Checkov ids, from the # METADATA blocks."""
    mapping = {}
    for root, _dirs, files in os.walk(policies_dir):
        for name in sorted(files):
            if not name.endswith(".rego") or name.endswith("_test.rego"):
                continue
            text = open(os.path.join(root, name), encoding="utf-8").read()
            for block in re.findall(r"(?m)^# METADATA\n((?:#.*\n)+)", text):
                pid = re.search(r"(?m)^#\s+id:\s*(\S+)", block)
                ck = re.search(r"(?m)^#\s+checkov:\s*\[([^\]]*)\]", block)
                if not pid:
                    continue
                ids = [x.strip() for x in ck.group(1).split(",") if x.strip()] if ck else []
                mapping[pid.group(1)] = ids
    return mapping


def classes(mapping):
    """Union-find over planguard ids and Checkov ids; returns id -> class name."""
    parent = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for pid, cks in mapping.items():
        for ck in cks:
            parent[find(ck)] = find(pid)
    members = collections.defaultdict(set)
    for pid, cks in mapping.items():
        if cks:
            for x in [pid] + cks:
                members[find(x)].add(x)
    out = {}
    for _root, ms in members.items():
        pg = sorted(m for m in ms if not m.startswith("CKV"))
        name = "+".join(pg)
        for m in ms:
            out[m] = name
    return out


def load_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def plan_facts(plan):
    """address -> actions (resource_changes), and the set of addresses in planned_values."""
    actions, planned = {}, set()
    if not isinstance(plan, dict):
        return actions, planned
    for rc in plan.get("resource_changes") or []:
        if isinstance(rc, dict) and "address" in rc:
            actions[rc["address"]] = (rc.get("change") or {}).get("actions") or []

    def walk(mod):
        if not isinstance(mod, dict):
            return
        for r in mod.get("resources") or []:
            if isinstance(r, dict) and "address" in r:
                planned.add(r["address"])
        for child in mod.get("child_modules") or []:
            walk(child)

    walk((plan.get("planned_values") or {}).get("root_module"))
    return actions, planned


# Checkov reports the S3 graph checks on the aws_s3_bucket; planguard reports the problem on the
# resource that carries it (the aws_s3_bucket_acl with the public ACL, the encryption
# configuration with AES256, the public access block with a flag turned off). A Checkov-only
# row on a bucket and a planguard-only row on a resource whose `bucket` names that bucket are
# one finding at two addresses ("agree-linked"). CKV2_AWS_6 fails both a missing block and a
# block with flags off; planguard reports the latter as aws-s3-public-access-block-weakened.
LINKED = {
    "aws-s3-public-acl": {"aws-s3-public-acl"},
    "aws-s3-bucket-kms+aws-s3-sse-kms": {"aws-s3-bucket-kms+aws-s3-sse-kms"},
    "aws-s3-public-access-block": {"aws-s3-public-access-block-weakened"},
    "aws-s3-public-policy": {"aws-s3-public-policy"},
}


def bucket_links(plan):
    """address of a bucket-level resource (ACL, policy, ...) -> addresses of the buckets its
    `bucket` argument names: by configuration reference within the module, or by known name."""
    if not isinstance(plan, dict):
        return {}
    changes = [rc for rc in plan.get("resource_changes") or [] if isinstance(rc, dict)]
    blocks = {}

    def walk(mod, path):
        for r in (mod or {}).get("resources") or []:
            blocks[(path, r.get("address"))] = r
        for name, call in ((mod or {}).get("module_calls") or {}).items():
            walk((call or {}).get("module"), path + (name,))

    walk(((plan.get("configuration") or {}).get("root_module")), ())

    def mpath(rc):
        ma = rc.get("module_address") or ""
        return tuple(re.sub(r"\[[^\]]*\]$", "", part).removeprefix("module.")
                     for part in ma.split(".module.")) if ma else ()

    buckets = [rc for rc in changes if rc.get("type") == "aws_s3_bucket"]
    out = {}
    for rc in changes:
        if not str(rc.get("type", "")).startswith("aws_s3_bucket_"):
            continue
        found = set()
        block = blocks.get((mpath(rc), f"{rc.get('type')}.{rc.get('name')}")) or {}
        refs = ((block.get("expressions") or {}).get("bucket") or {}).get("references") or []
        for ref in refs:
            target = ".".join(re.sub(r"\[[^\]]*\]", "", ref).split(".")[:2])
            for b in buckets:
                if (b.get("module_address") == rc.get("module_address")
                        and f"aws_s3_bucket.{b.get('name')}" == target):
                    found.add(b["address"])
        name = ((rc.get("change") or {}).get("after") or {}).get("bucket")
        if isinstance(name, str) and name:
            for b in buckets:
                if ((b.get("change") or {}).get("after") or {}).get("bucket") == name:
                    found.add(b["address"])
        out[rc["address"]] = found
    return out


def checkov_results(doc):
    """(address, check_id) -> "FAILED"/"PASSED"/"SKIPPED" from one Checkov JSON report."""
    out = {}
    reports = doc if isinstance(doc, list) else [doc]
    for rep in reports:
        if not isinstance(rep, dict) or rep.get("check_type") not in (None, "terraform_plan"):
            continue
        res = rep.get("results") or {}
        for key, status in (("passed_checks", "PASSED"), ("skipped_checks", "SKIPPED"),
                            ("failed_checks", "FAILED")):
            for c in res.get(key) or []:
                addr = c.get("resource_address") or c.get("resource")
                out[(addr, c["check_id"])] = status
    return out


def planguard_findings(doc):
    """list of (address, policy_id, level, message)."""
    out = []
    for p in (doc or {}).get("plans") or []:
        for f in p.get("findings") or []:
            out.append((f.get("address"), f.get("policy_id"), f.get("level"), f.get("message")))
    return out


def is_unknown(msg):
    return "unknown until apply" in (msg or "")


# Reasons for differences, with who is wrong (see docs/checkov-comparison.md). Each rule tests
# the evidence in the plan and the reports; a difference that no rule explains is
# "unexplained" and has to be read by hand.
REASONS = {
    "unchanged": "no-op resource: planguard checks changes only (check_unchanged off) [by design]",
    "s3-kms-off": "CKV_AWS_145 always requires SSE-KMS; planguard only with s3_require_kms [by design]",
    "port-80": "CKV_AWS_260 (port 80 open); planguard allows 80/443 by default (public_ingress_ports) [by design]",
    "launch-configuration": "CKV_AWS_8 on aws_launch_configuration; no planguard policy covers it [planguard gap]",
    "iam-action-star": "CKV_AWS_63 (Action \"*\" on a specific resource); aws-iam-wildcard needs Resource \"*\" too [planguard gap]",
    "after-null": "resource_changes has after: null (truncated fixture); Checkov fails a required block it cannot see [Checkov error]",
    "not-in-planned-values": "resource in resource_changes but missing from planned_values (fixture); Checkov never sees it [Checkov input limit]",
    "ckv19-no-config": "CKV_AWS_19 passes buckets without any encryption configuration (implicit SSE-S3); planguard warns [by design]",
    "unknown": "planguard warns: value unknown until apply; Checkov passes or skips it [planguard warning, Checkov guesses]",
    "optional-computed": "encrypted unset (Optional+Computed, unknown in the plan): Checkov returns UNKNOWN and reports nothing; the volume is unencrypted unless the AMI/account default encrypts [Checkov error]",
    "prefix-list-null": "Checkov treats prefix_list_ids = null as prefix lists given and passes the open rule [Checkov error]",
    "ports-beyond-checkov": "open port Checkov has no check for (only 22, 3389, 80, all) [planguard broader]",
    "tcp-udp-listener": "TCP/UDP listener: planguard warns (warn_tcp_listeners), CKV_AWS_2 passes TCP/UDP [planguard broader]",
    "single-node": "CKV_AWS_6 exempts single-node domains (instance_count <= 1) [by design, Checkov choice]",
    "missing-block-passes": "CKV_AWS_83 passes when domain_endpoint_options is absent; AWS then does not enforce HTTPS [Checkov error]",
}


def explain(row, rc, run):
    change = (rc or {}).get("change") or {}
    after = change.get("after") if isinstance(change.get("after"), dict) else {}
    rtype = row["address"].split(".")[-2] if "." in row["address"] else ""
    rtype = (rc or {}).get("type", rtype)
    msgs = [x["message"] or "" for x in row["planguard"]]
    failed, passed = set(row["checkov_failed"]), set(row["checkov_passed"])
    if row["kind"] == "checkov-only":
        if row["actions"] == ["no-op"] and run == "planguard":
            return "unchanged"
        if failed == {"CKV_AWS_145"} and run != "planguard-like":
            return "s3-kms-off"
        if failed == {"CKV_AWS_260"}:
            return "port-80"
        if rtype == "aws_launch_configuration" and failed == {"CKV_AWS_8"}:
            return "launch-configuration"
        if failed == {"CKV_AWS_63"}:
            return "iam-action-star"
        if rc is not None and change.get("after") is None:
            return "after-null"
        return "unexplained"
    if not row["in_planned_values"]:
        return "not-in-planned-values"
    if row["class"] == "aws-s3-bucket-encryption" and not failed:
        return "ckv19-no-config"
    if msgs and all(is_unknown(m) for m in msgs):
        return "unknown"
    if row["class"] in ("aws-ec2-instance-volume-encryption", "aws-ebs-encryption") and not passed:
        return "optional-computed"
    if row["class"] == "aws-ec2-public-ingress":
        if rtype == "aws_security_group_rule" and after.get("prefix_list_ids") is None and passed:
            return "prefix-list-null"
        return "ports-beyond-checkov"
    if row["class"] == "aws-lb-listener-https" and all("listener does not terminate TLS" in m for m in msgs):
        return "tcp-udp-listener"
    if row["class"] == "aws-opensearch-node-to-node-encryption" and "CKV_AWS_6" in passed:
        counts = [c.get("instance_count") for c in after.get("cluster_config") or [] if isinstance(c, dict)]
        if counts and all(isinstance(n, int) and n <= 1 for n in counts):
            return "single-node"
    if row["class"] == "aws-opensearch-enforce-https" and "CKV_AWS_83" in passed \
            and not after.get("domain_endpoint_options"):
        return "missing-block-passes"
    return "unexplained"


def compare_plan(plan_rel, args, cls):
    key = plan_rel.replace("/", "_")
    plan = load_json(os.path.join(args.corpus, plan_rel))
    actions, planned = plan_facts(plan)
    ck = checkov_results(load_json(os.path.join(args.results, "checkov", key)) or {})
    runs = {}
    for run in RUNS:
        runs[run] = planguard_findings(load_json(os.path.join(args.results, run, key)))

    ck_fail = collections.defaultdict(set)   # (addr, class) -> failed Checkov ids
    ck_pass = collections.defaultdict(set)   # (addr, class) -> passed Checkov ids
    for (addr, cid), status in ck.items():
        if cid in cls:
            (ck_fail if status == "FAILED" else ck_pass)[(addr, cls[cid])].add(cid)
    per_run = {}
    for run, findings in runs.items():
        pg = collections.defaultdict(list)   # (addr, class) -> [(policy, level, msg)]
        for addr, pid, level, msg in findings:
            if pid in cls:
                pg[(addr, cls[pid])].append((pid, level, msg))
        rows = []
        for k in sorted(set(ck_fail) | set(pg)):
            addr, klass = k
            f = pg.get(k, [])
            if k in ck_fail and f:
                kind = "agree-unknown" if all(is_unknown(m) for _, _, m in f) else "agree"
            elif k in ck_fail:
                kind = "checkov-only"
            else:
                kind = "planguard-only"
            rows.append({
                "plan": plan_rel, "address": addr, "class": klass, "kind": kind,
                "actions": actions.get(addr), "in_planned_values": addr in planned,
                "checkov_failed": sorted(ck_fail.get(k, ())),
                "checkov_passed": sorted(ck_pass.get(k, ())),
                "planguard": [{"policy": p, "level": l, "message": m} for p, l, m in f],
            })
        links = bucket_links(plan)
        changes = {rc.get("address"): rc for rc in (plan or {}).get("resource_changes") or []
                   if isinstance(rc, dict)} if isinstance(plan, dict) else {}
        for r in rows:
            if r["kind"] != "checkov-only" or r["class"] not in LINKED:
                continue
            for o in rows:
                # The partner may itself agree with Checkov on its own address (CKV_AWS_53-56
                # on the public access block); then it is counted there and only linked here.
                if (o["planguard"] and o["kind"] in ("planguard-only", "agree")
                        and o["class"] in LINKED[r["class"]]
                        and r["address"] in links.get(o["address"], ())):
                    r["kind"] = "agree-linked"
                    if o["kind"] == "planguard-only":
                        o["kind"] = "linked-partner"
                    r["linked"] = o["address"]
                    r["planguard"] = o["planguard"]
                    break
        for r in rows:
            if r["kind"] in ("checkov-only", "planguard-only"):
                r["reason"] = explain(r, changes.get(r["address"]), run)
        per_run[run] = rows
    return per_run


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--policies", required=True)
    ap.add_argument("--json", help="write every matched/unmatched pair here")
    ap.add_argument("--mapping-md", action="store_true", help="print the mapping table")
    args = ap.parse_args()

    mapping = parse_metadata(args.policies)
    cls = classes(mapping)
    if args.mapping_md:
        print("| planguard policy | Checkov ids |\n|---|---|")
        for pid in sorted(mapping):
            print(f"| `{pid}` | {', '.join(mapping[pid]) or '—'} |")
        print()

    plans = []
    with open(os.path.join(args.corpus, "index.tsv"), encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            row = dict(zip(header, line.rstrip("\n").split("\t")))
            if int(row.get("n_aws") or 0) > 0:
                plans.append(row["file"])

    all_rows = {run: [] for run in RUNS}
    for p in plans:
        for run, rows in compare_plan(p, args, cls).items():
            all_rows[run].extend(rows)

    print(f"AWS plans: {len(plans)}; equivalence classes: {len(set(cls.values()))}")
    for run, rows in all_rows.items():
        c = collections.Counter(r["kind"] for r in rows)
        print(f"\n== {run}: " + ", ".join(f"{k}={c[k]}" for k in
              ("agree", "agree-unknown", "agree-linked", "checkov-only", "planguard-only")))
        per_class = collections.defaultdict(collections.Counter)
        for r in rows:
            per_class[r["class"]][r["kind"]] += 1
        print(f"{'class':55} agree unkn link ckv-only pg-only")
        for k in sorted(per_class):
            v = per_class[k]
            print(f"{k:55} {v['agree']:5} {v['agree-unknown']:4} {v['agree-linked']:4} {v['checkov-only']:8} "
                  f"{v['planguard-only']:7}")
        reasons = collections.Counter((r["kind"], r["reason"]) for r in rows if "reason" in r)
        print(f"  differences by reason ({run}):")
        for (kind, reason), n in sorted(reasons.items()):
            print(f"    {kind:15} {reason:22} {n:4}  {REASONS.get(reason, '')}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(all_rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

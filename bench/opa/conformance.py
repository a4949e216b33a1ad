#!/usr/bin/env python3
"""Regenerates testdata/conformance/*/expected.json with the real OPA engine (v1.20.2).

    VENV/bin/python bench/opa/conformance.py [testdata/conformance] [CASE_SUBSTRING]

VENV has the OPA Go engine's Python bindings (`opa-golib-python-bindings`, see bench/README.md;
`bash /work/shared/tools/opa/install.sh /tmp/opa-ref` installs one). A dev tool: CI never runs
it, tests/conformance.rs compares planguard to the committed expected files.

A case is a directory with `policy/` (the Rego planguard loads), `input.json` (or the shared
`../input.json`), optionally `data.json` and `case.json`. Each rule conftest evaluates (`deny`,
`violation`, `warn`, with `_suffix`) of each package is queried alone, as conftest does, and
its value is recorded: a sorted list of results, or `{"error": ...}`. `*_test.rego` and
`*.test.rego` files are not loaded (conftest does not evaluate them). This build of OPA has
only the v1 parser, so a case whose `case.json` says `"rego_v0": true` carries the same
policy in v1 syntax in `opa/`, which is what OPA evaluates.
"""
import json, os, re, sys

from opa_bindings import OpaEngine
from opa_bindings.engine import OpaError, OpaUndefinedError

RULE = re.compile(r'^((?:deny|violation|warn)(?:_[A-Za-z0-9_]+)?)\b', re.M)
PACKAGE = re.compile(r'^package\s+([\w.]+)', re.M)


def policy_files(root):
    out = []
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for f in sorted(files):
            if f.endswith('.rego') and not f.endswith(('_test.rego', '.test.rego')):
                out.append(os.path.join(d, f))
    return out


def run_case(case):
    conf = {}
    if os.path.exists(os.path.join(case, 'case.json')):
        conf = json.load(open(os.path.join(case, 'case.json')))
    policy_dir = os.path.join(case, 'opa' if conf.get('rego_v0') else 'policy')
    input_path = os.path.join(case, 'input.json')
    if not os.path.exists(input_path):
        input_path = os.path.join(os.path.dirname(case), 'input.json')
    inp = json.load(open(input_path))
    engine = OpaEngine()
    rules = {}
    try:
        for path in policy_files(policy_dir):
            text = open(path, encoding='utf-8').read()
            engine.add_policy(os.path.relpath(path, policy_dir), text)
            pkg = PACKAGE.search(text).group(1)
            rules.setdefault(pkg, set()).update(RULE.findall(text))
        data_path = os.path.join(case, 'data.json')
        if os.path.exists(data_path):
            engine.add_data(json.load(open(data_path)), path='')
        engine.eval_query('true', input=inp)
    except OpaError as e:
        return {'load_error': str(e)}
    packages = {}
    for pkg in sorted(rules):
        for rule in sorted(rules[pkg]):
            try:
                rs = engine.eval_query(f'x := data.{pkg}.{rule}', input=inp)
            except OpaUndefinedError:
                continue
            except OpaError as e:
                packages.setdefault(pkg, {})[rule] = {'error': str(e)}
                continue
            if not rs:
                continue
            value = rs[0]['x']
            if not isinstance(value, list):
                value = [value]
            packages.setdefault(pkg, {})[rule] = sorted(value, key=lambda v: json.dumps(v, sort_keys=True))
    return {'packages': packages}


def main(root='testdata/conformance', only=None):
    for name in sorted(os.listdir(root)):
        case = os.path.join(root, name)
        if not os.path.isdir(case) or (only and only not in name):
            continue
        expected = run_case(case)
        with open(os.path.join(case, 'expected.json'), 'w') as f:
            json.dump(expected, f, indent=2, sort_keys=True)
            f.write('\n')
        print(name, json.dumps(expected, sort_keys=True)[:150])


if __name__ == '__main__':
    main(*sys.argv[1:])

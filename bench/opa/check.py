#!/usr/bin/env python3
"""Evaluates conftest-style policies on a plan with the real OPA engine, for benchmarks.

    VENV/bin/python bench/opa/check.py POLICY_DIR PLAN_JSON [NAMESPACE ...]

VENV is a virtualenv with the OPA Go engine's Python bindings (`opa-golib-python-bindings`,
OPA v1.20.2; see bench/README.md). Like `conftest test --all-namespaces` (or `--namespace NS`
for each NAMESPACE given): loads every `*.rego` file under POLICY_DIR except `*_test.rego`, and
evaluates the `deny`, `violation` and `warn` rules (optionally `_suffixed`) of every package
that has any. The plan's bytes go to OPA as they are (OPA parses them, as `opa eval -i` and
conftest do), and all packages are evaluated in one query, so that OPA too parses the input
once and evaluates shared helper rules once: the most favourable way to run OPA.

Prints one JSON line: `engine_seconds` (OPA parsing the input and evaluating, the part
comparable to planguard's work), `results` (the number of rule results) and `packages`.
A dev tool for benches/check.rs: CI does not run it.
"""
import json, os, re, sys, time

from opa_bindings import OpaEngine

RULE = re.compile(r'^(deny|violation|warn)(_[A-Za-z0-9_]+)?$')
DEFINES = re.compile(r'^(deny|violation|warn)(_[A-Za-z0-9_]+)?\b', re.M)


def load(engine, root):
    """Adds the policies to the engine; returns the packages with conftest rules."""
    packages = set()
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for f in sorted(files):
            if not f.endswith('.rego') or f.endswith('_test.rego'):
                continue
            path = os.path.join(d, f)
            text = open(path, encoding='utf-8').read()
            engine.add_policy(os.path.relpath(path, root), text)
            if DEFINES.search(text):
                packages.add(re.search(r'^package\s+([\w.]+)', text, re.M).group(1))
    return sorted(packages)


def count(doc):
    n = 0
    for name, value in (doc or {}).items():
        if RULE.match(name):
            n += len(value) if isinstance(value, (list, dict)) else (0 if value in (None, False) else 1)
    return n


def main(root, plan, *namespaces):
    engine = OpaEngine()
    packages = list(namespaces) or load(engine, root)
    if namespaces:
        load(engine, root)
    query = '[' + ', '.join(f'data.{p}' for p in packages) + ']'
    data = open(plan, 'rb').read()
    started = time.perf_counter()
    envelope = engine._call(engine._lib.OpaEvalQuery, query.encode(), data, 0, 0)
    seconds = time.perf_counter() - started
    result = envelope.get('result') or []
    docs = result[0]['expressions'][0]['value'] if result else []
    print(json.dumps({'engine_seconds': round(seconds, 3), 'results': sum(count(d) for d in docs),
                      'packages': len(packages)}))
    return 0


if __name__ == '__main__':
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))

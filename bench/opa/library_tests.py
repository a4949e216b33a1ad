#!/usr/bin/env python3
"""Runs the Rego unit tests of an exported planguard library on the real OPA engine.

    cargo run --release -- policies export /tmp/pg-lib
    VENV/bin/python bench/opa/library_tests.py /tmp/pg-lib [SUBSTRING]

VENV is a virtualenv with the OPA Go engine's Python bindings (`opa-golib-python-bindings`,
OPA v1.20.2; see bench/README.md for how to install it). Like `opa test DIR`: every rule named
`test_*` in a `*_test.rego` file is evaluated with no input and passes when it is `true`.
Prints one line per failing test and a summary; exits 1 when any test fails. A dev tool: CI
does not run it (it needs the bindings); tests/export.rs runs the same tests on regorus.
"""
import os, re, sys, time

from opa_bindings import OpaEngine
from opa_bindings.engine import OpaError, OpaUndefinedError


def main(root, only=None):
    engine = OpaEngine()
    tests = []
    for d, _, files in sorted(os.walk(root)):
        for f in sorted(files):
            if not f.endswith('.rego'):
                continue
            path = os.path.join(d, f)
            text = open(path, encoding='utf-8').read()
            engine.add_policy(os.path.relpath(path, root), text)
            if f.endswith('_test.rego'):
                pkg = re.search(r'^package\s+([\w.]+)', text, re.M).group(1)
                for name in re.findall(r'^(test_\w+)', text, re.M):
                    tests.append((pkg, name))
    passed = failed = 0
    started = time.time()
    for pkg, name in sorted(set(tests)):
        if only and only not in f'{pkg}.{name}':
            continue
        try:
            ok = engine.eval_document(f'{pkg}.{name}') is True
        except OpaUndefinedError:
            ok = False
        except OpaError as e:
            ok = False
            print(f'ERROR data.{pkg}.{name}: {e}')
        if ok:
            passed += 1
        else:
            failed += 1
            print(f'FAIL data.{pkg}.{name}')
    print(f'OPA: {passed} passed, {failed} failed in {time.time() - started:.1f} s')
    return 1 if failed else 0


if __name__ == '__main__':
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))

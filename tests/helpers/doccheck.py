#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""doccheck.py ROOT DOC...: every file, identifier and test a document cites exists.

tests/docs.bats runs it on the documents for developers and users. It checks
paths in backticks (shim/, tests/, scripts/, docs/, fuzz/, bench/...: a file
or a glob that matches one; NAME-like placeholders skipped), identifiers in
backticks named pl_* or plat_* and `struct pl_*` (defined in shim/ or the
tests' bash libraries), and test references, `tests/FILE.bats` (or
`FILE.bats`) followed by quoted parts of test names: each part must be in the
name of a test of that file. Prints one line per dangling citation; exit 1
if there is any."""
import re, subprocess, sys, glob, os
root = sys.argv[1]; docs = sys.argv[2:]
os.chdir(root)
tracked = set(subprocess.check_output(['git', 'ls-files']).decode().split()) if os.path.isdir('.git') or os.path.isfile('.git') else None
def exists(p):
    p = p.rstrip('/')
    if any(ch in p for ch in '*?['):
        return bool(glob.glob(p))
    return os.path.exists(p)
src = ''
for f in glob.glob('shim/*/*.[ch]') + glob.glob('tests/*.bash'):
    src += open(f).read() + '\n'
tests = {}
for f in glob.glob('tests/*.bats'):
    names = re.findall(r'^@test "(.*)" \{', open(f).read(), re.M)
    tests[os.path.basename(f)] = [' '.join(n.split()) for n in names]
bad = []
for d in docs:
    text = open(d).read()
    # paths in backticks or links
    for m in re.finditer(r'`((?:shim|tests|scripts|docs|fuzz|bench|packaging|completions)/[^`\s]*)`', text):
        p = m.group(1)
        if re.search(r'[A-Z]{3,}', p.split('/')[-1]) and not p.endswith('.md'):
            continue  # a placeholder: tests/helpers/NAME.c
        if not exists(p):
            bad.append(f'{d}: no file {p}')
    # identifiers
    for m in re.finditer(r'`((?:pl|plat)_[a-z0-9_]+)(?:\(\))?`', text):
        ident = m.group(1)
        if not re.search(r'\b' + re.escape(ident) + r'\b', src):
            bad.append(f'{d}: no identifier {ident} in shim/ or tests/*.bash')
    for m in re.finditer(r'`struct (pl_[a-z_]+)`', text):
        if not re.search(r'struct ' + m.group(1) + r'\b', src):
            bad.append(f'{d}: no struct {m.group(1)} in shim/')
    # test references: `tests/X.bats` or `X.bats`, then ": "part", "part"" up to ; or end of sentence
    for m in re.finditer(r'`(?:tests/)?([a-z_-]+\.bats)`(?::?\s*((?:"[^"]*"(?:\s*\([^)]*\))?(?:,|\s)*\s*)+))?', text):
        f = m.group(1)
        if f not in tests:
            bad.append(f'{d}: no test file tests/{f}')
            continue
        if m.group(2):
            for part in re.findall(r'"([^"]*)"', m.group(2)):
                part = ' '.join(part.split())
                if not any(part in n for n in tests[f]):
                    bad.append(f'{d}: tests/{f} has no test named like "{part}"')
for b in bad:
    print(b)
sys.exit(1 if bad else 0)

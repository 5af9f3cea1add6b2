#!/usr/bin/python3
"""The functions declared or defined in the given C files (or the .c/.h/.inc
files below given folders) that take more than MAX parameters: a declaration
or definition starts at the beginning of a line (the project's layout; calls
are indented). Prints one line per offender; exit 1 when there is one."""
import os
import re
import sys

MAX = 12
DECL = re.compile(r'^(?:static\s+|inline\s+|extern\s+|const\s+|unsigned\s+|struct\s+)*'
                  r'[A-Za-z_][A-Za-z_0-9]*(?:\s*\*+\s*|\s+)\**\s*'
                  r'((?:R\()?[A-Za-z_][A-Za-z_0-9]*\)?)\s*\(', re.M)


def params(text, start):
    depth, n, i, empty = 1, 1, start, True
    while i < len(text) and depth:
        ch = text[i]
        if ch == '(':
            depth += 1
        elif ch == ')':
            depth -= 1
        elif ch == ',' and depth == 1:
            n += 1
        elif not ch.isspace() and depth == 1:
            empty = False
        i += 1
    inner = text[start:i - 1].strip()
    return 0 if empty or inner == 'void' else n


def files(paths):
    for p in paths:
        if os.path.isdir(p):
            for root, _, names in os.walk(p):
                for name in sorted(names):
                    if name.endswith(('.c', '.h', '.inc')):
                        yield os.path.join(root, name)
        else:
            yield p


bad = 0
for path in files(sys.argv[1:]):
    text = open(path, encoding='utf-8').read()
    text = re.sub(r'/\*.*?\*/', lambda m: ' ' * len(m.group(0)), text, flags=re.S)
    for m in DECL.finditer(text):
        n = params(text, m.end())
        if n > MAX:
            line = text.count('\n', 0, m.start()) + 1
            print(f'{path}:{line}: {m.group(1)} takes {n} parameters (at most {MAX})')
            bad += 1
sys.exit(1 if bad else 0)

#!/usr/bin/env python3
"""Checks the code-shape limits of issue 12 (run by ctest as code_shape, label fast).

- no function in solver/ or graph/ longer than MAX_FUNCTION_LINES lines (body braces included);
- no command source in apps/ (apps/*_command.cc) longer than MAX_COMMAND_FILE_LINES lines.

Functions are found by brace matching on the source with comments and string literals blanked: a
top-level '{' (outside namespace, class, struct, enum, union and extern blocks) opened after a ')'
(optionally followed by const, noexcept, override, an initializer list or a trailing return type)
starts a function. Lambdas inside a function count toward that function, as a reader sees them.
"""
import pathlib
import re
import sys

MAX_FUNCTION_LINES = 120   # issue 12: a function a reader can take in at once
MAX_COMMAND_FILE_LINES = 119  # issue 12: under 120 lines; apps/ only parses, calls, prints and writes

CONTAINER = re.compile(r'\b(namespace|class|struct|enum|union|extern\s*"C")\b[^;{}()]*$')


def blank(text):
    """Comments and string/char literals replaced by spaces (newlines kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith('//', i):
            j = text.find('\n', i)
            j = n if j < 0 else j
            out.append(' ' * (j - i)); i = j
        elif text.startswith('/*', i):
            j = text.find('*/', i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r'[^\n]', ' ', text[i:j])); i = j
        elif text.startswith('R"', i):
            m = re.match(r'R"([^(\s]*)\(', text[i:])
            end = text.find(')' + m.group(1) + '"', i) + len(m.group(1)) + 2
            out.append(re.sub(r'[^\n]', ' ', text[i:end])); i = end
        elif c in '"\'':
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == '\\' else 1
            out.append(c + ' ' * (j - i - 1) + c); i = j + 1
        else:
            out.append(c); i += 1
    return ''.join(out)


def functions(path):
    text = blank(path.read_text())
    stack = []  # (kind, start offset)
    last_stmt_end = 0
    for i, c in enumerate(text):
        if c == '{':
            head = text[last_stmt_end:i]
            in_function = any(k == 'function' for k, _ in stack)
            if in_function:
                kind = 'block'
            elif CONTAINER.search(head.strip().split('\n')[-1] if head.strip() else ''):
                kind = 'container'
            elif CONTAINER.search(' '.join(head.split())):
                kind = 'container'
            elif ')' in head or '=' in head:
                kind = 'function' if ')' in head and '=' not in head.split(')')[-1] else 'block'
            else:
                kind = 'block'
            stack.append((kind, i))
            last_stmt_end = i + 1
        elif c == '}':
            if stack:
                kind, start = stack.pop()
                if kind == 'function':
                    first = text.count('\n', 0, start) + 1
                    last = text.count('\n', 0, i) + 1
                    yield first, last
            last_stmt_end = i + 1
        elif c == ';':
            last_stmt_end = i + 1


def main(root):
    root = pathlib.Path(root)
    problems = []
    for folder in ('solver', 'graph'):
        for path in sorted((root / folder).rglob('*')):
            if path.suffix not in ('.cc', '.h', '.inc'):
                continue
            for first, last in functions(path):
                if last - first + 1 > MAX_FUNCTION_LINES:
                    problems.append(f'{path.relative_to(root)}:{first}: function of {last - first + 1} lines '
                                    f'(limit {MAX_FUNCTION_LINES})')
    for path in sorted((root / 'apps').glob('*_command.cc')):
        lines = len(path.read_text().splitlines())
        if lines > MAX_COMMAND_FILE_LINES:
            problems.append(f'{path.relative_to(root)}: {lines} lines (limit {MAX_COMMAND_FILE_LINES})')
    for p in problems:
        print(p)
    print(f'code shape: {len(problems)} problems')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent))

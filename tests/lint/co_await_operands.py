#!/usr/bin/env python3
"""Fails when a co_await is an operand of &&, || or ?: in the project's C++ sources.

GCC 12 (Debian 12's compiler) generated wrong code for `co_await f() && g()`: in tenantd's
switch route it took a real switch for a no-op in about half of the loaded test runs, and
binding the awaited value to a local first fixed it (CONTRIBUTING.md). This keeps the pattern
out. A co_await inside parentheses of its own (a call's argument list) or after an if's
condition is fine; one next to a && / || / ? / : at its own nesting level is not.

usage: co_await_operands.py SOURCE_ROOT [--self-test]
"""
import pathlib
import re
import sys

DIRS = ("api", "apps", "consumers", "projections", "eventstore", "domain", "bench", "tests")
OPERATOR = re.compile(r"&&|\|\||\?|(?<!:):(?!:)")


def strip(text):
    """Comments, string and character literals blanked out (same length, newlines kept)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == 'R' and text.startswith('R"', i):
            m = re.match(r'R"([^(\s]*)\(', text[i:])
            end = text.find(")" + m.group(1) + '"', i) if m else -1
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(" " * (min(j + 1, n) - i))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def findings(text):
    code = strip(text)
    for m in re.finditer(r"\bco_await\b", code):
        # Backwards to the start of the statement, then forwards to its end, looking for an
        # operator at the co_await's own nesting level.
        depth, i, hit = 0, m.start() - 1, None
        while i >= 0 and code[i] not in ";{}":
            if code[i] in ")]":
                depth += 1
            elif code[i] in "([":
                if depth == 0:
                    break  # the co_await's own parentheses: an argument or a condition
                depth -= 1
            elif depth == 0 and OPERATOR.match(code, i) and not code.startswith("::", i - 1):
                hit = i
                break
            i -= 1
        if hit is None:
            depth, i = 0, m.end()
            while i < len(code) and code[i] not in ";{}":
                if code[i] in "([":
                    depth += 1
                elif code[i] in ")]":
                    if depth == 0:
                        break
                    depth -= 1
                elif depth == 0 and OPERATOR.match(code, i) and not code.startswith("::", i):
                    hit = i
                    break
                i += 1
        if hit is not None:
            yield code.count("\n", 0, m.start()) + 1


def self_test():
    bad = [
        "x = a && co_await f();",
        "x = co_await f() && b;",
        "if (co_await f() || b) {}",
        "y = c ? co_await f() : 0;",
        "y = c ? 0 : co_await f();",
        "return ok && co_await g(a, b);",
    ]
    good = [
        "if (a || b) co_return co_await next(ctx);",
        "const bool r = co_await f(a && b, c ? 1 : 2);",
        "auto v = co_await ns::f();",
        "if (r && c) x = 1; y = co_await f();",
        'auto s = "a && b"; co_await f();',
        "// x = a && co_await f();\nco_await f();",
    ]
    failed = [s for s in bad if not list(findings(s))] + [s for s in good if list(findings(s))]
    for s in failed:
        print("self-test: wrong verdict for:", s)
    return not failed


def main():
    root = pathlib.Path(sys.argv[1])
    if not self_test():
        return 1
    bad = []
    for d in DIRS:
        for p in sorted((root / d).rglob("*")):
            if p.suffix in (".cpp", ".hpp") and p.is_file():
                for line in findings(p.read_text(errors="replace")):
                    bad.append(f"{p.relative_to(root)}:{line}")
    for b in bad:
        print(f"{b}: co_await in an operand of &&, || or ?: (bind it to a local first; "
              "CONTRIBUTING.md)")
    print(f"co_await operands: {len(bad)} finding(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

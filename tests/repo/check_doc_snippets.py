#!/usr/bin/env python3
"""Fails when a C++ snippet of the documentation is not code that the build compiles.

Every ```cpp block of the checked Markdown files must appear, line after line, in one C++ source
the build compiles (examples/, tests/, proxy-sdk/, conductor/, protocol/). Lines are compared
without their indentation and trailing whitespace; inside a snippet line `…` stands for any text
(`{ … }` elides a body), and a line that is only `…` or `...` stands for any number of lines.
A snippet preceded by a line naming its file in backquotes (`path/to/file.cpp`) must be found in
that file. So a snippet cannot drift from the API: when the code it was taken from changes, the
check fails until the documentation follows.

usage: check_doc_snippets.py [--root DIR] [FILE.md...]   (default: docs/sdk-guide.md, README.md)
       check_doc_snippets.py --self-test                 prove that it fires, and only where it should
Exit status: 0 every snippet found, 1 some not (each printed as FILE:LINE: TEXT), 2 usage error.
"""
import argparse
import os
import re
import sys
import tempfile

SOURCE_DIRS = ("examples", "tests", "proxy-sdk", "conductor", "protocol")
SOURCE_SUFFIXES = (".cpp", ".hpp")
ELLIPSIS = "…"
FENCE = re.compile(r"^\s*```(\w*)\s*$")
NAMED_FILE = re.compile(r"`([\w./-]+\.(?:cpp|hpp))`")


def snippets(text):
    """(line number, [lines], named file or None) for every ```cpp block."""
    out = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        lang, start = m.group(1), i
        i += 1
        body = []
        while i < len(lines) and not FENCE.match(lines[i]):
            body.append(lines[i])
            i += 1
        i += 1
        if lang != "cpp":
            continue
        named = None
        for back in range(start - 1, max(start - 4, -1), -1):  # the paragraph just before
            if not lines[back].strip():
                if back != start - 1:
                    break
                continue
            found = NAMED_FILE.findall(lines[back])
            if found:
                named = found[-1]
                break
        out.append((start + 1, body, named))
    return out


def line_pattern(line):
    parts = [re.escape(p) for p in line.strip().split(ELLIPSIS)]
    return re.compile("^" + ".*".join(parts) + "$")


def matches(body, source_lines):
    """True when the snippet's lines occur in order in `source_lines` (stripped), contiguous but
    for `…` lines."""
    want = [l for l in body if l.strip()]
    if not want:
        return True
    have = [l.strip() for l in source_lines if l.strip()]

    def at(wi, hi):
        if wi == len(want):
            return True
        w = want[wi].strip()
        if w in (ELLIPSIS, "..."):
            return any(at(wi + 1, h) for h in range(hi, len(have) + 1))
        return hi < len(have) and line_pattern(w).match(have[hi]) is not None and at(wi + 1, hi + 1)

    first = line_pattern(want[0].strip()) if want[0].strip() not in (ELLIPSIS, "...") else None
    for start in range(len(have)):
        if first is not None and not first.match(have[start]):
            continue
        if at(0, start):
            return True
    return False


def sources(root):
    for d in SOURCE_DIRS:
        for base, dirs, files in os.walk(os.path.join(root, d)):
            dirs[:] = [x for x in dirs if x not in ("node_modules", "corpus")]
            for f in files:
                if f.endswith(SOURCE_SUFFIXES):
                    path = os.path.join(base, f)
                    with open(path, encoding="utf-8", errors="replace") as fh:
                        yield os.path.relpath(path, root), fh.read().split("\n")


def check(root, docs):
    all_sources = list(sources(root))
    failures = []
    for doc in docs:
        with open(os.path.join(root, doc), encoding="utf-8") as fh:
            text = fh.read()
        for line_no, body, named in snippets(text):
            pool = [s for s in all_sources if named and s[0].endswith(named)] if named else all_sources
            if named and not pool:
                failures.append(f"{doc}:{line_no}: names `{named}`, which is not a source file of the tree")
                continue
            if not any(matches(body, lines) for _, lines in pool):
                where = f"in `{named}`" if named else "in any compiled source"
                first = next((l.strip() for l in body if l.strip()), "")
                failures.append(f"{doc}:{line_no}: snippet not found {where}: {first}")
    return failures


def self_test():
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "examples"))
        os.makedirs(os.path.join(root, "docs"))
        with open(os.path.join(root, "examples", "a.cpp"), "w") as f:
            f.write("int main() {\n  int x = 1;\n  if (x) {\n    x = 2;\n  }\n  return x;\n}\n")
        doc = (
            "`examples/a.cpp`:\n\n```cpp\nint x = 1;\nif (x) { … }\n```\n"  # 3: `…` inside a line fails here
            "\n```cpp\nint main() {\n…\n  return x;\n}\n```\n"  # found: a line of `…` skips lines
            "\n```cpp\nint y = 1;\n```\n"  # not found anywhere
            "\n`examples/b.cpp`:\n\n```cpp\nint x = 1;\n```\n"  # names a file that does not exist
            "\n```sh\nnot checked\n```\n"
        )
        with open(os.path.join(root, "docs", "g.md"), "w") as f:
            f.write(doc)
        got = check(root, ["docs/g.md"])
        want_lines = [3, 15, 21]
        got_lines = sorted(int(f.split(":")[1]) for f in got)
        if got_lines != want_lines:
            print("self-test failed: expected failures at lines", want_lines, "got:", *got, sep="\n  ")
            return 1
        # and the same document passes once the snippets are true
        with open(os.path.join(root, "docs", "g.md"), "w") as f:
            f.write("```cpp\nint x = 1;\nif (x) {\n…\n}\n```\n")
        if check(root, ["docs/g.md"]):
            print("self-test failed: a true snippet was reported")
            return 1
    print("self-test: the check reports exactly the snippets that are not in the sources")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("docs", nargs="*", default=["docs/sdk-guide.md", "README.md"])
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    failures = check(args.root, args.docs)
    for f in failures:
        print(f)
    if failures:
        print(f"check_doc_snippets: {len(failures)} snippet(s) are not compiled code; copy them from the "
              "source they name (or name it) so the build keeps them true", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Fails when a file of the repository refers to something outside the repository.

The repository must build, test and read on its own: a fresh clone is all there is. This check
reads every file git tracks (plus untracked files that are not ignored, i.e. what is about to be
added), or every file under the root when git or the .git folder is absent, and reports:

  outside-tree   a path into the author's workspace next to the checkout: its `shared` folder
                 reached with dot-dot, or that folder's spec, acp-schema or STYLE.md by name;
  machine-path   an absolute path on the author's machine (the `/work` tree);
  escaping-path  in build files, scripts and Markdown: a relative path whose `..` segments climb
                 above the repository root, resolved from the file's own folder
                 (`${CMAKE_CURRENT_SOURCE_DIR}`, `$(dirname "${BASH_SOURCE[0]}")`, a plain
                 relative path) or from the root (`${PROJECT_SOURCE_DIR}`, `$root`).

C++ sources and test data may hold paths with `..` or under `/home` as *data* (path-traversal
tests, sample working directories); only the first two rules apply to them.

usage: check_self_contained.py [--root DIR]   check DIR (default: the repository of this script)
       check_self_contained.py --self-test    prove that every rule fires, and only where it should
Exit status: 0 clean, 1 references found (each printed as FILE:LINE: RULE: TEXT), 2 usage error.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

# Written so that this file does not match its own patterns.
DOTDOT = "." + "."
OUTSIDE_TREE = re.compile(re.escape(DOTDOT) + r"/shared\b|\bshared/(?:spec|acp-schema|STYLE\.md)\b")
MACHINE_PATH = re.compile(r"(?<![\w.\-])/" + "work" + r"/")

# Files whose relative paths are paths on disk (build files, scripts, documentation links).
PATH_FILE_NAMES = {"CMakeLists.txt"}
PATH_FILE_SUFFIXES = (".cmake", ".cmake.in", ".pc.in", ".sh", ".py", ".mjs", ".md")
SKIP_DIRS_WHEN_WALKING = {".git", ".cache", "node_modules", "__pycache__"}

# Anchors that name the repository root or the file's own folder, replaced before resolving.
ROOT_ANCHORS = ("${PROJECT_SOURCE_DIR}", "${CMAKE_SOURCE_DIR}", "${acp_conductor_SOURCE_DIR}")
HERE_ANCHORS = ("${CMAKE_CURRENT_SOURCE_DIR}", "${CMAKE_CURRENT_LIST_DIR}",
                '$(dirname "${BASH_SOURCE[0]}")', '$(dirname "$0")', "os.path.dirname(__file__)")
ROOT_SHELL_VARS = {"root", "ROOT", "repo", "top"}  # scripts here set `root` to the checkout
HERE_SHELL_VARS = {"here", "script_dir", "this_dir"}
PATH_RUN = re.compile(r"[A-Za-z0-9_.\-/@${}]+")
DOTDOT_SEGMENT = re.compile(r"(?:^|/)" + re.escape(DOTDOT) + r"(?:/|$)")


def list_files(root):
    """Paths relative to root: git's view when root is a git work tree's top, else a walk."""
    if shutil.which("git"):
        top = subprocess.run(["git", "-C", root, "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True)
        if top.returncode == 0 and os.path.realpath(top.stdout.strip()) == os.path.realpath(root):
            out = subprocess.run(["git", "-C", root, "ls-files", "-z", "--cached", "--others",
                                  "--exclude-standard"], capture_output=True, check=True)
            names = sorted({n for n in out.stdout.decode().split("\0") if n})
            return [n for n in names if os.path.isfile(os.path.join(root, n))], "git"
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS_WHEN_WALKING
                             and not (rel_dir == "." and d.startswith("build")))
        for f in sorted(filenames):
            found.append(os.path.normpath(os.path.join(rel_dir, f)))
    return found, "walk"


def is_path_file(rel, first_line):
    name = os.path.basename(rel)
    return (name in PATH_FILE_NAMES or name.endswith(PATH_FILE_SUFFIXES)
            or rel.startswith(".ci/") or first_line.startswith("#!"))


def escapes_root(run, file_depth):
    """True when the path-like text `run`, written in a file `file_depth` folders below the root,
    climbs above the root. Runs that start from another variable or an absolute path are not
    source paths and are not judged here."""
    if run.startswith("@ROOT@"):
        depth, rest = 0, run[len("@ROOT@"):]
    elif run.startswith("@HERE@"):
        depth, rest = file_depth, run[len("@HERE@"):]
    elif run.startswith("$"):
        m = re.match(r"\$\{?(\w+)\}?", run)
        if not m:
            return False
        if m.group(1) in ROOT_SHELL_VARS:
            depth = 0
        elif m.group(1) in HERE_SHELL_VARS:
            depth = file_depth
        else:
            return False
        rest = run[m.end():]
    elif run.startswith("/"):
        return False
    else:
        depth, rest = file_depth, run
    for seg in rest.split("/"):
        if seg == DOTDOT:
            depth -= 1
            if depth < 0:
                return True
        elif seg not in ("", "."):
            depth += 1
    return False


def check_text(rel, text):
    """[(line number, rule, line)] for one file's text."""
    problems = []
    lines = text.splitlines()
    path_file = is_path_file(rel, lines[0] if lines else "")
    file_depth = len(os.path.dirname(rel).split("/")) if os.path.dirname(rel) else 0
    for number, line in enumerate(lines, 1):
        if OUTSIDE_TREE.search(line):
            problems.append((number, "outside-tree", line))
            continue
        if MACHINE_PATH.search(line):
            problems.append((number, "machine-path", line))
            continue
        if not path_file or DOTDOT not in line:
            continue
        resolved = line
        for a in ROOT_ANCHORS:
            resolved = resolved.replace(a, "@ROOT@")
        for a in HERE_ANCHORS:
            resolved = resolved.replace(a, "@HERE@")
        for run in PATH_RUN.findall(resolved):
            if DOTDOT_SEGMENT.search(run) and escapes_root(run, file_depth):
                problems.append((number, "escaping-path", line))
                break
    return problems


def check_tree(root):
    files, how = list_files(root)
    problems = []
    for rel in files:
        with open(os.path.join(root, rel), "rb") as f:
            data = f.read()
        if b"\0" in data[:8192]:
            continue  # binary
        for number, rule, line in check_text(rel, data.decode("utf-8", errors="replace")):
            problems.append(f"{rel}:{number}: {rule}: {line.strip()[:160]}")
    return problems, len(files), how


SELF_TEST_FILES = {
    # file: (content, set of line numbers that must be reported)
    "README.md": ("The contract is `" + DOTDOT + "/shared/" + "spec/PROTOCOL.md`.\n"
                  "See docs/guide.md and `third_party/x/README.md`.\n"
                  "Style: the author's shared/" + "STYLE.md.\n", {1, 3}),
    "CMakeLists.txt": ("add_subdirectory(sub)\n"
                       "set(D ${PROJECT_SOURCE_DIR}/" + DOTDOT + "/data)\n"
                       "set(E ${PROJECT_SOURCE_DIR}/third_party/x)\n"
                       "set(F ${PROJECT_BINARY_DIR}/" + DOTDOT + "/anything)\n", {2}),
    "sub/CMakeLists.txt": ("set(A ${CMAKE_CURRENT_SOURCE_DIR}/" + DOTDOT + "/ok.txt)\n"
                           "set(B ${CMAKE_CURRENT_SOURCE_DIR}/" + DOTDOT + "/" + DOTDOT + "/bad)\n"
                           "set(C " + DOTDOT + "/" + DOTDOT + "/also_bad)\n", {2, 3}),
    "scripts/run.sh": ("#!/bin/sh\n"
                       'root=$(cd "$(dirname "${BASH_SOURCE[0]}")/' + DOTDOT + '" && pwd)\n'
                       'cat "$root/' + DOTDOT + '/other/file"\n'
                       'cd "$(dirname "$0")/' + DOTDOT + "/" + DOTDOT + '"\n'
                       'cp "$build/' + DOTDOT + '/x" .\n', {3, 4}),
    ".ci/run": ('cd "$(dirname "$0")/' + DOTDOT + '"\n', set()),
    "src/a.cpp": ('auto p = "/' + 'work/project/a.txt";\n'
                  'auto q = "' + DOTDOT + "/" + DOTDOT + '/etc/passwd"; // path-traversal test data\n'
                  'auto r = "file:///home/u/project";\n'
                  '#include "' + DOTDOT + "/" + DOTDOT + "/" + DOTDOT + '/x.hpp"\n', {1}),
    "data/sample.json": ('{"cwd": "/home/me/p", "uri": "https://example.com/work/x"}\n', set()),
}


def self_test():
    """Builds a small tree with known references and checks that exactly those are reported,
    both through git (when available) and by walking the tree."""
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for rel, (content, _) in SELF_TEST_FILES.items():
            os.makedirs(os.path.join(tmp, os.path.dirname(rel)), exist_ok=True)
            with open(os.path.join(tmp, rel), "w", encoding="utf-8") as f:
                f.write(content)
        with open(os.path.join(tmp, "blob.bin"), "wb") as f:  # binary: skipped
            f.write(b"\0\0" + ("/" + "work/").encode())
        os.makedirs(os.path.join(tmp, "build"))  # a build tree in the checkout: never read
        with open(os.path.join(tmp, "build", "CMakeCache.txt"), "w", encoding="utf-8") as f:
            f.write("X=/" + "work/anything\n")
        expected = {f"{rel}:{n}" for rel, (_, lines) in SELF_TEST_FILES.items() for n in lines}
        modes = ["walk"]
        if shutil.which("git"):
            env = dict(os.environ, GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
            subprocess.run(["git", "init", "-q", tmp], check=True, env=env)
            with open(os.path.join(tmp, ".gitignore"), "w", encoding="utf-8") as f:
                f.write("/build*/\n")
            modes = ["git", "walk"]
        for mode in modes:
            if mode == "walk" and os.path.isdir(os.path.join(tmp, ".git")):
                shutil.rmtree(os.path.join(tmp, ".git"))
            problems, count, how = check_tree(tmp)
            found = {p.split(": ", 1)[0] for p in problems}
            if how != mode:
                failures.append(f"{mode}: listed the files by {how}")
            if found != expected:
                failures.append(f"{mode}: missed {sorted(expected - found)}, "
                                f"wrongly reported {sorted(found - expected)}")
            print(f"self-test ({how}, {count} files): {len(problems)} references reported")
    for f in failures:
        print(f"self-test FAILED: {f}", file=sys.stderr)
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                   DOTDOT, DOTDOT))
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    root = os.path.realpath(args.root)
    problems, count, how = check_tree(root)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} reference(s) outside the repository in {count} files ({how}); "
              "keep everything the build, the tests and the docs need inside the tree",
              file=sys.stderr)
        return 1
    print(f"{count} files ({how}): nothing refers outside the repository")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Checks that every test `make tsan` selects is built under TSan.

Usage: check_tsan_targets.py BUILD_DIR REGEX TARGET...

BUILD_DIR is a fully built tree (build/dev). The tests REGEX selects there are mapped to the
executables that run them (a seed's test runs its seed_<stem> program through a cmake script);
each of those must be among TARGET, or the TSan pass would skip those tests without a word.
"""
import json
import os
import subprocess
import sys


def executable_of(test):
    command = test.get("command") or []
    if not command:
        return None
    exe = os.path.basename(command[0])
    if exe == "cmake":  # a seed or example compared with its golden output
        for arg in command:
            if arg.startswith("-DEXE="):
                return os.path.basename(arg[len("-DEXE="):])
        return None
    return exe


def main():
    build, regex, targets = sys.argv[1], sys.argv[2], set(sys.argv[3:])
    listing = subprocess.run(["ctest", "--show-only=json-v1", "-R", regex], cwd=build,
                             check=True, capture_output=True, text=True).stdout
    tests = json.loads(listing)["tests"]
    missing = {}
    for test in tests:
        exe = executable_of(test)
        if exe is None:
            sys.exit(f"check_tsan_targets: cannot tell which program runs {test['name']}")
        if exe not in targets:
            missing.setdefault(exe, []).append(test["name"])
    if missing:
        for exe, names in sorted(missing.items()):
            print(f"check_tsan_targets: {exe} runs {len(names)} TSan test(s) "
                  f"(e.g. {names[0]}) but is not in TSAN_TARGETS", file=sys.stderr)
        sys.exit(1)
    print(f"check_tsan_targets: {len(tests)} tests in {len(targets)} TSan targets")


if __name__ == "__main__":
    main()

#!/bin/sh
# Fails when a C/C++ file of the tree differs from what clang-format makes of it with the
# repository's .clang-format (run by ctest as style.clang_format; `make format` rewrites).
#   scripts/check_format.sh          check, print each difference
#   scripts/check_format.sh --fix    rewrite the files in place
set -eu
cd "$(dirname "$0")/.."
CF=${CLANG_FORMAT:-clang-format}
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    files=$(git ls-files '*.hpp' '*.cpp' '*.h' '*.c')
else
    files=$(find bench examples include src tests -name '*.hpp' -o -name '*.cpp' -o -name '*.h' -o -name '*.c')
fi
if [ "${1:-}" = "--fix" ]; then
    # shellcheck disable=SC2086
    exec $CF -i $files
fi
# shellcheck disable=SC2086
exec $CF --dry-run -Werror $files

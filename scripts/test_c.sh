#!/usr/bin/env bash
# C-ABI tests: C programs compiled with the system C compiler, linked against libgsms, run against
# the emulator binary; then the same programs under valgrind (no definite leaks, no invalid access).
# (scripts/test_sanitizers.sh runs the same programs again with AddressSanitizer.)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. scripts/lib.sh
need gcc gcc valgrind valgrind

cargo build --quiet -p gsms -p gsms-emulator
OUT="$ROOT/target/c-tests"
mkdir -p "$OUT"
CFLAGS="-std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -g -Iinclude"
# Every program of C_TEST_PROGRAMS (scripts/lib.sh), against the shared library and, linked
# without the .so, against the static one.
for entry in "${C_TEST_PROGRAMS[@]}"; do
  c_test_entry "$entry"
  gcc $CFLAGS "tests/c/$C_TEST.c" -Ltarget/debug -Wl,-rpath,"$ROOT/target/debug" -lgsms -lpthread -o "$OUT/$C_TEST"
  gcc $CFLAGS "tests/c/$C_TEST.c" target/debug/libgsms.a -lpthread -ldl -lm -o "$OUT/${C_TEST}_static"
done

c_test_emulators

passed=0; failed=0
run() { echo "+ $*"; if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi; }
for entry in "${C_TEST_PROGRAMS[@]}"; do
  c_test_entry "$entry"
  run "$OUT/$C_TEST" "${C_ARGS[@]}"
  run "$OUT/${C_TEST}_static" "${C_ARGS[@]}"
done

VG="valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 --show-leak-kinds=definite"
for entry in "${C_TEST_PROGRAMS[@]}"; do
  c_test_entry "$entry" valgrind
  [ "$C_SKIP" = 1 ] || run $VG "$OUT/$C_TEST" "${C_ARGS[@]}"
done
echo "c-abi: $passed passed, $failed failed, 0 skipped"
[ "$failed" -eq 0 ]

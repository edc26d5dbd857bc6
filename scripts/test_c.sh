#!/usr/bin/env bash
# C-ABI tests: C programs compiled with the system C compiler, linked against libgsms, run against
# the emulator binary; then the same programs under valgrind (no definite leaks, no invalid access).
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
  t=${entry%%:*}
  gcc $CFLAGS "tests/c/$t.c" -Ltarget/debug -Wl,-rpath,"$ROOT/target/debug" -lgsms -lpthread -o "$OUT/$t"
  gcc $CFLAGS "tests/c/$t.c" target/debug/libgsms.a -lpthread -ldl -lm -o "$OUT/${t}_static"
done

start_emulator "${C_TEST_EMULATOR_FLAGS[@]}"

fail=0
run() { echo "+ $*"; "$@" || fail=1; }
VG="valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 --show-leak-kinds=definite"
for entry in "${C_TEST_PROGRAMS[@]}"; do
  IFS=: read -r t args vg_args <<<"$entry"
  # shellcheck disable=SC2086 # ARGS are words
  run "$OUT/$t" "$EMU_URL" $args
  # shellcheck disable=SC2086
  run "$OUT/${t}_static" "$EMU_URL" $args
done
for entry in "${C_TEST_PROGRAMS[@]}"; do
  IFS=: read -r t args vg_args <<<"$entry"
  # shellcheck disable=SC2086
  run $VG "$OUT/$t" "$EMU_URL" ${vg_args:-$args}
done
exit $fail

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
for t in test_abi test_stress; do
  gcc $CFLAGS "tests/c/$t.c" -Ltarget/debug -Wl,-rpath,"$ROOT/target/debug" -lgsms -lpthread -o "$OUT/$t"
done
# The static library too: the same test linked without the .so.
gcc $CFLAGS tests/c/test_abi.c target/debug/libgsms.a -lpthread -ldl -lm -o "$OUT/test_abi_static"

start_emulator --servers 2 --poll-ms 100 --lifetime-secs 1 --titles 1234,4321 --revoked-token "XBL3.0 x=u;expired"

passed=0; failed=0
run() { echo "+ $*"; if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi; }
run "$OUT/test_abi" "$EMU_URL"
run "$OUT/test_abi_static" "$EMU_URL"
run "$OUT/test_stress" "$EMU_URL" 1000

VG="valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 --show-leak-kinds=definite"
run $VG "$OUT/test_abi" "$EMU_URL"
run $VG "$OUT/test_stress" "$EMU_URL" 100
echo "c-abi: $passed passed, $failed failed, 0 skipped"
[ "$failed" -eq 0 ]

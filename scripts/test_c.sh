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
for t in test_abi test_stress test_lifecycle; do
  gcc $CFLAGS "tests/c/$t.c" -Ltarget/debug -Wl,-rpath,"$ROOT/target/debug" -lgsms -lpthread -o "$OUT/$t"
done
# The static library too: the same test linked without the .so.
gcc $CFLAGS tests/c/test_abi.c target/debug/libgsms.a -lpthread -ldl -lm -o "$OUT/test_abi_static"

start_emulator --servers 2 --poll-ms 100 --lifetime-secs 1 --titles 1234,4321 --revoked-token "XBL3.0 x=u;expired"
# The lifecycle suite: its own answering emulator, and a slow one (300 ms per request).
launch_emulator LC --servers 2 --poll-ms 100 --lifetime-secs 1
launch_emulator SLOW --servers 2 --poll-ms 100 --lifetime-secs 1 --latency-ms 300
[ -n "$LC_URL" ] && [ -n "$SLOW_URL" ] || { echo "the lifecycle emulators did not start"; cat target/LC.log target/SLOW.log; exit 1; }

fail=0
run() { echo "+ $*"; "$@" || fail=1; }
run "$OUT/test_abi" "$EMU_URL"
run "$OUT/test_abi_static" "$EMU_URL"
run "$OUT/test_stress" "$EMU_URL" 1000
run "$OUT/test_lifecycle" "$LC_URL" "$SLOW_URL"

VG="valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 --show-leak-kinds=definite"
run $VG "$OUT/test_abi" "$EMU_URL"
run $VG "$OUT/test_stress" "$EMU_URL" 100
exit $fail

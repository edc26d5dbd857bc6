#!/usr/bin/env bash
# Memory safety, tested: the library built with AddressSanitizer (nightly Rust, -Zsanitizer=address)
# and every C-ABI test program built with gcc's AddressSanitizer and UndefinedBehaviorSanitizer,
# run against the emulator: every program of C_TEST_PROGRAMS (scripts/lib.sh: test_abi, test_stress,
# test_lifecycle (free racing every call, from every callback), test_family), test_abi linked
# statically, and the NULL walk generated from include/gsms.h.
# Then ThreadSanitizer over the lifecycle suite (GSMS_TSAN=0 leaves it out: it rebuilds std, about
# 4 minutes on a cold 2-core machine).
#
# Needs the nightly toolchain (rustup). Fails with a message when it cannot be had.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. scripts/lib.sh
need gcc gcc python3 python3

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "the nightly Rust toolchain is required for -Zsanitizer (rustup toolchain install nightly)"
  exit 1
fi
TARGET=$(rustc -vV | sed -n 's/^host: //p')
OUT="$ROOT/target/c-tests/asan"
mkdir -p "$OUT"
fail=0

t0=$SECONDS
echo "+ building libgsms with AddressSanitizer (nightly, $TARGET)"
# An explicit --target keeps build scripts and proc macros uninstrumented.
RUSTFLAGS="-Zsanitizer=address -Cforce-frame-pointers=yes" \
  cargo +nightly build --quiet -p gsms --target "$TARGET" --target-dir target/asan || exit 1
cargo build --quiet -p gsms-emulator || exit 1
echo "  built in $((SECONDS - t0)) s"
LIB="$ROOT/target/asan/$TARGET/debug"

SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS="-std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -g -O1 -Iinclude $SAN"
# Every program of C_TEST_PROGRAMS (scripts/lib.sh).
for entry in "${C_TEST_PROGRAMS[@]}"; do
  c_test_entry "$entry"
  gcc $CFLAGS "tests/c/$C_TEST.c" -L"$LIB" -Wl,-rpath,"$LIB" -lgsms -lpthread -o "$OUT/$C_TEST" || exit 1
done
gcc $CFLAGS tests/c/test_abi.c "$LIB/libgsms.a" -lpthread -ldl -lm -o "$OUT/test_abi_static" || exit 1
python3 scripts/gen_null_test.py include/gsms.h "$OUT/null_walk.c" >/dev/null || exit 1
gcc $CFLAGS "$OUT/null_walk.c" -L"$LIB" -Wl,-rpath,"$LIB" -lgsms -lpthread -o "$OUT/null_walk" || exit 1

c_test_emulators || exit 1

# Any report (memory error, leak, undefined behaviour) fails the program with a non-zero exit.
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0:exitcode=86:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=87"
run() {
  local t1=$SECONDS
  echo "+ $*"
  if "$@"; then
    echo "  ok ($((SECONDS - t1)) s)"
  else
    echo "  FAILED (exit $?)"
    fail=1
  fi
}
for entry in "${C_TEST_PROGRAMS[@]}"; do
  c_test_entry "$entry"
  run "$OUT/$C_TEST" "${C_ARGS[@]}"
done
run "$OUT/test_abi_static" "$EMU_URL"
run "$OUT/null_walk"

if [ "${GSMS_TSAN:-1}" = 1 ]; then
  # ThreadSanitizer needs std rebuilt with it (-Zbuild-std, rust-src): otherwise std's own locks are
  # invisible to it and every Mutex looks like a race. gcc 12's libtsan lacks the
  # __tsan_memcpy/__tsan_memset/__tsan_memmove that rustc emits: tests/c/tsan_shim.c forwards them.
  rustup component add rust-src --toolchain nightly >/dev/null 2>&1 || { echo "rust-src cannot be installed"; exit 1; }
  t0=$SECONDS
  echo "+ building libgsms with ThreadSanitizer (nightly, -Zbuild-std)"
  RUSTFLAGS="-Zsanitizer=thread -Cforce-frame-pointers=yes" \
    cargo +nightly build --quiet -Zbuild-std -p gsms --target "$TARGET" --target-dir target/tsan || exit 1
  echo "  built in $((SECONDS - t0)) s"
  TLIB="$ROOT/target/tsan/$TARGET/debug"
  TOUT="$ROOT/target/c-tests/tsan"
  mkdir -p "$TOUT"
  gcc -std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -g -O1 -Iinclude -fsanitize=thread \
    tests/c/test_lifecycle.c tests/c/tsan_shim.c -L"$TLIB" -Wl,-rpath,"$TLIB" -lgsms -lpthread -o "$TOUT/test_lifecycle" || exit 1
  TSAN_OPTIONS="halt_on_error=1:exitcode=88:second_deadlock_stack=1" run "$TOUT/test_lifecycle" "$LC_URL" "$SLOW_URL"
fi
exit $fail

#!/usr/bin/env bash
# Hardening extras, run by scripts/test.sh after the main suites (the hostile-server, bad-caller,
# security and property tests are ordinary integration tests, run by `cargo test`):
#   - the panic boundary, with the `test-hooks` feature;
#   - a C program generated from include/gsms.h that calls every function with NULL for each pointer
#     parameter and absurd numbers, natively and under valgrind (plus a check that the generator
#     refuses a header it cannot cover);
#   - a soak run (GSMS_SOAK_N operations, default 50000 here; the test's own default is 100000);
#   - Miri over the C-ABI unit tests that touch raw pointers (src/ffi/tests.rs), on nightly;
#   - cargo-fuzz on the parsers (GSMS_FUZZ_SECS per target, default 30) and on the family's
#     decoders and setters (GSMS_FUZZ_FAMILY_SECS per target, default 5), when nightly works.
# Installs the nightly components miri and rust-src (rustup) and cargo-fuzz (cargo install) when
# nightly is present; a check that cannot run prints SKIPPED with the reason and is counted
# skipped. Prints "extra: N passed, M failed, K skipped"; exits non-zero on failure, 77 when
# every check was skipped.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. scripts/lib.sh
need gcc gcc valgrind valgrind python3 python3 nm binutils

SOAK_N=${GSMS_SOAK_N:-50000}
FUZZ_SECS=${GSMS_FUZZ_SECS:-30}
FUZZ_FAMILY_SECS=${GSMS_FUZZ_FAMILY_SECS:-5}
# The family's targets (FAMILY.md): shorter runs, so six more targets add about 30 s.
FUZZ_FAMILY_TARGETS="parse_ticket parse_inline parse_variants parse_session_host parse_qos_servers family_requests"
OUT="$ROOT/target/c-tests"
mkdir -p "$OUT"

passed=0; failed=0; skipped=0; failures=()
step() {
  local name=$1; shift
  echo "--- $name"
  local t0=$SECONDS
  "$@"
  local rc=$?
  if [ $rc -eq 0 ]; then
    passed=$((passed + 1)); echo "--- $name: ok ($((SECONDS - t0)) s)"
  elif [ $rc -eq 77 ]; then
    skipped=$((skipped + 1)); echo "--- $name: SKIPPED (see above)"
  else
    failed=$((failed + 1)); failures+=("$name"); echo "--- $name: FAILED ($((SECONDS - t0)) s)"
  fi
}
skip() {
  skipped=$((skipped + 1)); echo "--- $1: SKIPPED ($2)"
}

panic_boundary() {
  cargo test --quiet --features test-hooks --test panic_boundary
  local rc=$?
  # The feature build replaced target/debug/libgsms.so: put the normal library back.
  cargo build --quiet -p gsms || rc=1
  return $rc
}

null_walk() {
  cargo build --quiet -p gsms || return 1
  python3 scripts/gen_null_test.py include/gsms.h "$OUT/null_walk.c" --lib target/debug/libgsms.so || return 1
  local cflags="-std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -g -Iinclude"
  gcc $cflags "$OUT/null_walk.c" -Ltarget/debug -Wl,-rpath,"$ROOT/target/debug" -lgsms -lpthread -o "$OUT/null_walk" ||
    return 1
  "$OUT/null_walk" || return 1
  valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 --show-leak-kinds=definite \
    "$OUT/null_walk" || return 1

  # The generator must refuse what it cannot cover, and cover what it can, with no edit to it.
  local h="$OUT/gsms_extra.h"
  sed 's|^const char \*gsms_status_name(uint32_t status);|&\ngsms_status gsms_widget_frob(struct gsms_client *client, struct gsms_widget *w);|' \
    include/gsms.h >"$h"
  grep -q gsms_widget_frob "$h" || { echo "self-test: could not add a prototype"; return 1; }
  python3 scripts/gen_null_test.py "$h" "$OUT/null_walk_extra.c" 2>"$OUT/gen.err"
  if [ $? -ne 2 ] || ! grep -q "gsms_widget_frob" "$OUT/gen.err"; then
    echo "self-test: a function with an unknown parameter type was not refused"; return 1
  fi
  sed 's|^const char \*gsms_status_name(uint32_t status);|&\ngsms_status gsms_client_frob(struct gsms_client *client, const char *name, uint32_t n);|' \
    include/gsms.h >"$h"
  python3 scripts/gen_null_test.py "$h" "$OUT/null_walk_extra.c" >/dev/null || return 1
  local n
  n=$(grep -c 'gsms_client_frob(' "$OUT/null_walk_extra.c")
  [ "$n" -ge 5 ] || { echo "self-test: a new function got $n calls, want NULL and number cases"; return 1; }
  echo "null-walk self-test: unknown types refused; a new function got $n generated calls"
}

soak() {
  GSMS_SOAK_N=$SOAK_N cargo test --quiet --test soak -- --ignored --nocapture
}

# Only src/ffi/tests.rs (the `ffi::` filter): the library's unsafe code is the C ABI's handles,
# strings and out-pointers (src/ffi), and those tests drive it without threads or sockets. The
# only other unsafe block, libc::recv(MSG_PEEK) on a pooled socket (src/core/transport.rs), is a
# foreign call on a real socket, which Miri cannot execute; it runs natively in every test that
# reuses a connection. The other unit tests (src/core) are safe Rust with no pointers: Miri would
# add nothing but minutes. Isolation is off so the tests may read the clock.
miri() {
  if ! rustup component list --toolchain nightly --installed 2>/dev/null | grep -q '^miri'; then
    echo "installing the nightly miri and rust-src components"
    rustup component add --toolchain nightly miri rust-src || {
      echo "rustup could not install miri for nightly (is the rustup dist server reachable?)"
      return 77
    }
  fi
  cargo +nightly miri setup >/dev/null 2>&1 || { echo "cargo miri setup failed"; cargo +nightly miri setup; return 1; }
  local log="$OUT/miri.log"
  MIRIFLAGS="-Zmiri-disable-isolation" cargo +nightly miri test -p gsms --lib ffi:: 2>&1 | tee "$log" | tail -5
  local rc=${PIPESTATUS[0]}
  # Miri must have run the tests, not filtered them all away.
  local n
  n=$(sed -n 's/^test result: ok\. \([0-9]*\) passed.*/\1/p' "$log" | head -1)
  [ "$rc" -eq 0 ] && [ "${n:-0}" -ge 5 ] || { echo "miri: exit $rc, ${n:-0} tests passed (want >= 5)"; return 1; }
  echo "miri: $n tests of src/ffi/tests.rs passed under Miri"
}

fuzz() {
  if ! command -v cargo-fuzz >/dev/null 2>&1; then
    local t0=$SECONDS
    if ! cargo install cargo-fuzz --locked --quiet; then
      echo "cargo-fuzz could not be installed (is crates.io reachable?): fuzzing skipped"
      return 77
    fi
    echo "cargo-fuzz installed in $((SECONDS - t0)) s"
  fi
  # Safe Rust under test: no sanitizer (faster builds and runs); libFuzzer still finds panics,
  # overflows (debug assertions are on), OOMs and hangs.
  local t0=$SECONDS
  (cd fuzz && cargo +nightly fuzz build --sanitizer none) || return 1
  echo "fuzz targets built in $((SECONDS - t0)) s"
  local rc=0 t secs
  for t in parse_answer retry_after validate $FUZZ_FAMILY_TARGETS; do
    secs=$FUZZ_SECS
    case " $FUZZ_FAMILY_TARGETS " in *" $t "*) secs=$FUZZ_FAMILY_SECS ;; esac
    mkdir -p "fuzz/corpus/$t"
    local log="$OUT/fuzz_$t.log"
    (cd fuzz && cargo +nightly fuzz run --sanitizer none "$t" "corpus/$t" "seeds/$t" -- \
      -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1) >"$log" 2>&1
    local st=$?
    local runs
    runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -1)
    echo "fuzz $t: ${runs:-?} executions in ${secs} s, exit $st, corpus $(ls "fuzz/corpus/$t" | wc -l) inputs"
    if [ $st -ne 0 ]; then
      rc=1
      tail -40 "$log"
      ls fuzz/artifacts/"$t" 2>/dev/null
    fi
  done
  return $rc
}

step "panic boundary (cargo test --features test-hooks --test panic_boundary)" panic_boundary
step "NULL walk generated from include/gsms.h (native + valgrind)" null_walk
step "soak (N=$SOAK_N, 4 threads, faults)" soak

if cargo +nightly --version >/dev/null 2>&1; then
  step "miri (C-ABI unit tests, src/ffi/tests.rs)" miri
else
  skip "miri" "no nightly toolchain (rustup toolchain install nightly, then rerun)"
fi

if cargo +nightly --version >/dev/null 2>&1; then
  step "cargo-fuzz (${FUZZ_SECS} s per parser target, ${FUZZ_FAMILY_SECS} s per family target)" fuzz
else
  skip "cargo-fuzz" "no nightly toolchain; the property tests (tests/properties.rs) cover the same parsers on stable"
  step "property tests, deeper (PROPTEST_CASES=2048)" env PROPTEST_CASES=2048 cargo test --quiet --test properties
fi

echo
[ ${#failures[@]} -gt 0 ] && printf 'failed: %s\n' "${failures[@]}"
echo "extra: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] || exit 1
[ "$passed" -gt 0 ] || exit 77

#!/usr/bin/env bash
# The test command (README "Run all tests"): installs what is missing, then runs every suite:
# the links of the Markdown files, Rust unit and integration tests (emulator over loopback HTTP),
# the header drift check, the C-ABI programs natively, under valgrind and under AddressSanitizer,
# the public headers compiled on their own, the C, C++ and C# samples against the emulator, the
# Windows and Linux arm64 libraries under wine and qemu, and the release packages (dist/).
# Benchmarks are compiled, not run (timings are noisy here).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. scripts/lib.sh

need gcc gcc g++ g++ valgrind valgrind cmake cmake mcs mono-mcs mono mono-runtime pkg-config pkg-config python3 python3
if ! command -v cargo >/dev/null; then
  echo "cargo is required (https://rustup.rs)"; exit 1
fi
# Drift between include/gsms.h and src/ffi must fail the run, not be silently regenerated.
export CI=true
# Incremental caches only help a developer's next edit; here they would double target/.
export CARGO_INCREMENTAL=0
disk() { df -Pk "$ROOT" | awk 'NR==2 {printf "%.1f GB free, target/ %s\n", $4/1048576, t}' t="$(du -sh "$ROOT/target" 2>/dev/null | cut -f1)"; }
echo "disk at start: $(disk)"

# Each suite prints its own closing line ("<suite>: N passed, M failed, K skipped") and marks
# every check it could not run with a line starting "SKIPPED"; a suite that exits 77 ran nothing
# but skips and is counted skipped here, never passed.
LOGS="$ROOT/target/test-logs"
mkdir -p "$LOGS"
passed=0; failed=0; skipped=0; failures=(); skipped_checks=()
suite() {
  local name=$1; shift
  echo "=== $name"
  local t0=$SECONDS log="$LOGS/suite-$((passed + failed + skipped + 1)).log"
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local inner
  inner=$(grep -E '^(--- .*: )?SKIPPED' "$log" | sed "s|^|$name: |")
  [ -n "$inner" ] && mapfile -t -O "${#skipped_checks[@]}" skipped_checks <<<"$inner"
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1)); echo "=== $name: ok ($((SECONDS - t0)) s)"
  elif [ "$rc" -eq 77 ]; then
    skipped=$((skipped + 1)); echo "=== $name: SKIPPED ($((SECONDS - t0)) s)"
  else
    failed=$((failed + 1)); failures+=("$name"); echo "=== $name: FAILED ($((SECONDS - t0)) s)"
  fi
  echo "    disk: $(disk)"
}
# Build trees no later suite reads (sanitizer builds, the soak's and miri's own trees): removed
# once their suite is over, so a small CI disk holds the whole run.
prune() { rm -rf "$@"; }

suite "docs links (every relative link names a file of the repository; scripts/check_docs.py)" python3 scripts/check_docs.py
lint() {
  for c in clippy rustfmt; do
    rustup component list --installed 2>/dev/null | grep -q "^$c" || rustup component add "$c" || { echo "rustup component add $c failed"; return 1; }
  done
  cargo fmt --all --check && cargo clippy --quiet --workspace --all-targets --features test-hooks -- -D warnings
}
suite "lint (cargo fmt --check, clippy -D warnings incl. test-hooks)" lint
suite "build (workspace, all targets incl. benches and examples)" cargo build --workspace --all-targets --quiet
suite "rust tests (unit, integration against the emulator, header drift)" cargo test --workspace --quiet
suite "rust integration tests against the emulator in quirks mode" env GSMS_EMULATOR_QUIRKS=1 cargo test --quiet --test blocking --test async_ops --test bad_callers --test security --test client_lifecycle --test family --test family_ffi
suite "c-abi tests (gcc, native + valgrind)" bash scripts/test_c.sh
suite "c-abi tests under AddressSanitizer + UBSan (library and programs)" bash scripts/test_sanitizers.sh
prune target/asan target/tsan
suite "public headers (C99, C++17, gsms.hpp -fno-exceptions -fno-rtti)" bash scripts/test_headers.sh
suite "samples (C, C++ via CMake, C# via mcs + mono)" bash scripts/test_samples.sh
suite "emulator dashboard in headless chromium, cargo install --path emulator" bash scripts/test_dashboard.sh
suite "platforms (Windows x64 under wine: C-ABI + C#; Linux arm64 under qemu: C-ABI)" bash scripts/test_platforms.sh
suite "packages (dist/: SDK archives, Unity tarball, NuGet; opened, linked, run)" bash scripts/test_package.sh
suite "benchmark programs compile (not run: timings are noisy here)" bash scripts/build_benches.sh
suite "hardening extras (panic boundary, NULL walk + valgrind, soak, miri, fuzz)" bash scripts/test_extra.sh

echo
[ ${#failures[@]} -gt 0 ] && printf 'failed suite: %s\n' "${failures[@]}"
echo "skipped checks: ${#skipped_checks[@]}"
[ ${#skipped_checks[@]} -gt 0 ] && printf '  %s\n' "${skipped_checks[@]}"
echo "suites: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# Mutation testing: cargo-mutants puts one small deliberate bug at a time into src/core,
# src/runtime and src/ffi and runs the tests (settings in .cargo/mutants.toml: nextest, the
# panic-boundary feature, the C suites through tests/c_programs.rs, not the soak). A mutant the
# tests do not catch is "missed"; docs/TESTING.md records the last result and why each kept
# survivor is harmless. Long (hours on 2 cores): not part of the test command.
#
#   bash scripts/mutants.sh                      everything in .cargo/mutants.toml
#   bash scripts/mutants.sh src/core src/runtime only these directories or files
#   bash scripts/mutants.sh --iterate            retest only what the last run did not catch
#   MUTANTS_JOBS=2 bash scripts/mutants.sh       two mutants at a time (default 1)
#   bash scripts/mutants.sh --shard=0/16 --sharding=round-robin
#                                                every 16th mutant of the whole list: a sample
#                                                of the library (about 70 mutants, 11 min with
#                                                MUTANTS_JOBS=2 here); docs/TESTING.md has one
#   bash scripts/mutants.sh "--re=REGEX"         only the mutants whose name matches (use the
#                                                --opt=value form: options are passed through)
#   bash scripts/mutants.sh --windows            the mutants of the read loop's Windows rule
#                                                (transport.rs: after_read_error, compiled and
#                                                tested on Linux too) once more, built for
#                                                x86_64-pc-windows-gnu and tested under wine with
#                                                the transport's unit tests (a few minutes)
#
# Runs under `nice -n 15`. Output: target/mutants/mutants.out/{caught,missed,timeout,unviable}.txt.
# Last line: "mutants: C caught, M missed, T timeout, U unviable; missed M of V viable (P%)".
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

. scripts/lib.sh
need gcc gcc valgrind valgrind  # tests/c_programs.rs: the C suites, natively and under valgrind
if ! cargo mutants --version >/dev/null 2>&1; then
  echo "installing cargo-mutants (cargo install cargo-mutants --locked)"
  cargo install cargo-mutants --locked --quiet || { echo "cargo-mutants could not be installed"; exit 1; }
fi
if ! cargo nextest --version >/dev/null 2>&1; then
  echo "installing cargo-nextest (cargo install cargo-nextest --locked)"
  cargo install cargo-nextest --locked --quiet || { echo "cargo-nextest could not be installed"; exit 1; }
fi

if [ "${1:-}" = "--windows" ]; then
  . scripts/platforms.sh
  need wine wine /usr/lib/wine/wine64 wine64 x86_64-w64-mingw32-gcc-posix gcc-mingw-w64-x86-64-posix || exit 1
  need_rust_target x86_64-pc-windows-gnu || exit 1
  wine_prefix || exit 1
  export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=wine CARGO_PROFILE_DEV_DEBUG=false CARGO_PROFILE_TEST_DEBUG=false
  OUT="$ROOT/target/mutants-windows"
  mkdir -p "$OUT"
  # The read loop's Windows rule (a timeout is a short poll: read again unless shut down) is
  # after_read_error in transport.rs, compiled everywhere so that the Linux runs mutate and test
  # it; this runs its mutants again in the Windows build, under wine. Nothing of src/core,
  # src/runtime or src/ffi that cargo-mutants can mutate is compiled only for Windows now.
  t=src/core/transport.rs
  re='after_read_error'
  if ! grep -q "fn $re" "$t"; then
    echo "scripts/mutants.sh: $re was not found in $t" >&2
    exit 1
  fi
  echo "mutants of $re, built for Windows: $(cargo mutants --no-config --list -f "$t" --re "$re" 2>/dev/null | wc -l)"
  nice -n 15 cargo mutants --no-config --no-shuffle -j 1 -o "$OUT" -f src/core/transport.rs \
    --re "$re" --timeout-multiplier 3 --minimum-test-timeout 120 \
    --cargo-arg=--target=x86_64-pc-windows-gnu -- --lib -- core::transport
  rc=$?
  d="$OUT/mutants.out"
  for k in caught missed timeout unviable; do
    n=0
    [ -s "$d/$k.txt" ] && n=$(grep -c . "$d/$k.txt")
    echo "$k: $n"
  done
  exit $rc
fi

args=() list_args=()
for a in "$@"; do
  case "$a" in
    --iterate) args+=("$a") ;;
    --*) args+=("$a") list_args+=("$a") ;;
    *) [ -d "$a" ] && a="${a%/}/**"
       args+=(-f "$a") list_args+=(-f "$a") ;;
  esac
done
if [ ${#list_args[@]} -eq "$(printf '%s\n' "${list_args[@]}" | grep -c '^--')" ]; then
  # No file given: the library's three layers.
  for f in 'src/core/**' 'src/runtime/**' 'src/ffi/**'; do args+=(-f "$f") list_args+=(-f "$f"); done
fi
OUT="$ROOT/target/mutants"
mkdir -p "$OUT"
n=$(cargo mutants --list "${list_args[@]}" 2>/dev/null | wc -l)
echo "mutants to consider: $n (one takes about 40 s to build and test here)"
# No debug info: the dozen test binaries relinked for every mutant link much faster.
export CARGO_PROFILE_DEV_DEBUG=false CARGO_PROFILE_TEST_DEBUG=false
t0=$SECONDS
nice -n 15 cargo mutants --no-shuffle -j "${MUTANTS_JOBS:-1}" -o "$OUT" "${args[@]}"
rc=$?
d="$OUT/mutants.out"
count() { local n=0; [ -f "$d/$1.txt" ] && n=$(grep -c . "$d/$1.txt"); echo "${n:-0}"; }
c=$(count caught) m=$(count missed) t=$(count timeout) u=$(count unviable)
v=$((c + m + t))
echo "took $(((SECONDS - t0) / 60)) min; details in $d"
echo "mutants: $c caught, $m missed, $t timeout, $u unviable; missed $m of $v viable ($(awk -v m="$m" -v v="$v" 'BEGIN { printf "%.1f", v ? 100 * m / v : 0 }')%)"
# cargo mutants exits 2 when some mutants were missed, 3 on timeouts, 4 when the baseline failed.
exit $rc

# Helpers sourced by the test scripts.

# Installs Debian packages whose command is missing: need CMD PACKAGE [CMD PACKAGE ...]
# (CMD may be an absolute path, for packages without a command). Fails, saying which, when a
# package could not be installed.
need() {
  local missing=() cmds=()
  _have() { case "$1" in /*) [ -e "$1" ] ;; *) command -v "$1" >/dev/null 2>&1 ;; esac; }
  while [ $# -ge 2 ]; do
    _have "$1" || { missing+=("$2"); cmds+=("$1"); }
    shift 2
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    local c still=()
    for c in "${cmds[@]}"; do _have "$c" || still+=("$c"); done
    if [ ${#still[@]} -gt 0 ]; then
      echo "could not install what provides: ${still[*]} (apt-get install ${missing[*]} failed)" >&2
      return 1
    fi
  fi
}

# The C-ABI test programs (tests/c/NAME.c), one place for every script that runs them:
# scripts/test_c.sh (natively, statically linked, under valgrind) and scripts/test_platforms.sh
# (Windows under wine, Linux arm64 under qemu). Each entry is NAME|ARGS[|VALGRIND_ARGS]: @EMU@,
# @LC@ and @SLOW@ in ARGS stand for the URLs of the emulators c_test_emulators starts;
# VALGRIND_ARGS default to ARGS, "-" leaves the program out under valgrind. @FAM@ is the family
# suite's own emulator (two QoS regions, session hosts that take 250 ms to activate).
C_TEST_PROGRAMS=("test_abi|@EMU@" "test_stress|@EMU@ 1000|@EMU@ 100" "test_lifecycle|@LC@ @SLOW@|-"
  "test_family|@FAM@")

# The family suite's emulator (tests/c/test_family.c says what it relies on).
FAMILY_EMULATOR_FLAGS=(--servers 2 --poll-ms 100 --lifetime-secs 2.5 --titles 1234,4321,77 --no-subscriptions 77
  --session-hosts 2 --activation-ms 250 --region "West US:delay=1" --region "North Europe:delay=25")

# c_test_emulators: starts the emulators the C test programs run against (EMU_URL, LC_URL,
# SLOW_URL, FAM_URL); fails with their output when one does not start.
c_test_emulators() {
  start_emulator --servers 2 --poll-ms 100 --lifetime-secs 1 --titles 1234,4321 --revoked-token "XBL3.0 x=u;expired" || return 1
  # The lifecycle suite: its own answering emulator, and a slow one (300 ms per request).
  launch_emulator LC --servers 2 --poll-ms 100 --lifetime-secs 1
  launch_emulator SLOW --servers 2 --poll-ms 100 --lifetime-secs 1 --latency-ms 300
  launch_emulator FAM "${FAMILY_EMULATOR_FLAGS[@]}"
  if [ -z "$LC_URL" ] || [ -z "$SLOW_URL" ] || [ -z "$FAM_URL" ]; then
    echo "the lifecycle or family emulators did not start"
    cat "$ROOT/target/LC.log" "$ROOT/target/SLOW.log" "$ROOT/target/FAM.log"
    return 1
  fi
}

# c_test_entry ENTRY [valgrind]: sets C_TEST (the program's name) and C_ARGS (its arguments, an
# array, URLs filled in; empty with C_SKIP=1 when left out under valgrind).
c_test_entry() {
  local name args vg a
  IFS='|' read -r name args vg <<<"$1"
  C_TEST=$name
  C_SKIP=0
  if [ "${2:-}" = valgrind ] && [ -n "$vg" ]; then
    [ "$vg" = - ] && { C_SKIP=1; C_ARGS=(); return 0; }
    args=$vg
  fi
  C_ARGS=()
  for a in $args; do
    a=${a//@EMU@/${EMU_URL:-}}
    a=${a//@LC@/${LC_URL:-}}
    a=${a//@FAM@/${FAM_URL:-}}
    C_ARGS+=("${a//@SLOW@/${SLOW_URL:-}}")
  done
}

# The emulator the samples and the C# tests run against (a title's only server stays busy 2 s, so
# Queued shows), used by scripts/test_samples.sh and scripts/test_platforms.sh.
SAMPLES_EMULATOR_FLAGS=(--udp-echo --poll-ms 200 --servers 1 --lifetime-secs 2)

# Emulators started by launch_emulator, killed when the calling shell exits.
EMU_PIDS=""
trap 'kill $EMU_PIDS 2>/dev/null || true' EXIT

# launch_emulator NAME FLAGS...: starts the emulator binary in the background and waits for its
# "listening on" line; sets NAME_URL and NAME_PID (NAME_URL empty when it did not start; its output
# is then in $ROOT/target/NAME.log).
launch_emulator() {
  local name=$1 log="$ROOT/target/$1.log" url="" pid
  shift
  mkdir -p "$ROOT/target"
  "$ROOT/target/debug/gsms-emulator" --bind 127.0.0.1:0 --quiet "$@" >"$log" 2>&1 &
  pid=$!
  EMU_PIDS="$EMU_PIDS $pid"
  for _ in $(seq 1 100); do
    url=$(sed -n 's/^gsms-emulator listening on //p' "$log")
    [ -n "$url" ] && break
    sleep 0.05
  done
  printf -v "${name}_URL" '%s' "$url"
  printf -v "${name}_PID" '%s' "$pid"
}

# start_emulator FLAGS...: launch_emulator EMU FLAGS..., failing when it does not start.
start_emulator() {
  launch_emulator EMU "$@"
  if [ -z "$EMU_URL" ]; then
    echo "the emulator did not start:"; cat "$ROOT/target/EMU.log"; return 1
  fi
  export EMU_URL EMU_PID
}

# Helpers sourced by the test scripts.

# Installs Debian packages whose command is missing: need CMD PACKAGE [CMD PACKAGE ...]
need() {
  local missing=()
  while [ $# -ge 2 ]; do
    command -v "$1" >/dev/null 2>&1 || missing+=("$2")
    shift 2
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

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

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

# Starts the emulator binary in the background with the given flags; sets EMU_URL and EMU_PID and
# kills it when the calling shell exits.
start_emulator() {
  local out
  out=$(mktemp)
  "$ROOT/target/debug/gsms-emulator" --bind 127.0.0.1:0 --quiet "$@" >"$out" 2>&1 &
  EMU_PID=$!
  trap 'kill $EMU_PID 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do
    EMU_URL=$(sed -n 's/^gsms-emulator listening on //p' "$out")
    [ -n "$EMU_URL" ] && break
    sleep 0.05
  done
  if [ -z "$EMU_URL" ]; then
    echo "the emulator did not start:"; cat "$out"; return 1
  fi
  export EMU_URL EMU_PID
}

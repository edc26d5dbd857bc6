#!/usr/bin/env bash
# The emulator as a developer runs it: its dashboard in a real browser, and `cargo install`.
#   - Debian's chromium, headless, driven by playwright-core from npm (pinned; no browser
#     download), loads /_emulator/ui of an emulator started with the example configuration
#     (emulator/gsms-emulator.example.toml); an allocation made through libgsms (the C sample)
#     appears on it; a click adds a 503 fault that the library's next call sees; a click releases
#     servers; a screenshot is saved as target/dashboard.png (docs/dashboard.png is a copy).
#   - `cargo install --path emulator` installs a working gsms-emulator (into target/, debug
#     profile and the workspace's target dir so that it reuses the build).
#
#   scripts/test_dashboard.sh
#
# Last line: "dashboard: N passed, M failed"; exits non-zero when anything failed.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. scripts/lib.sh

PLAYWRIGHT_VERSION=1.65.1
OUT="$ROOT/target/dashboard"
mkdir -p "$OUT"
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() {
  failed=$((failed + 1))
  echo "not ok - $1"
  [ -f "${2:-}" ] && sed 's/^/    /' "$2" | tail -40
  return 0
}
finish() {
  echo "dashboard: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
}

need chromium chromium gcc gcc pkg-config pkg-config node nodejs npm npm
for tool in chromium node npm gcc; do
  command -v "$tool" >/dev/null || { not_ok "$tool is installed (apt-get install failed?)"; finish; }
done

echo "# build"
if cargo build --quiet -p gsms -p gsms-emulator 2>"$OUT/cargo.log" &&
  cargo build --quiet -p gsms-emulator --example echo_server 2>>"$OUT/cargo.log"; then
  ok "cargo build (libgsms, gsms-emulator, the echo_server example)"
else
  not_ok "cargo build" "$OUT/cargo.log"; finish
fi
export PKG_CONFIG_PATH="$ROOT/pkgconfig"
# shellcheck disable=SC2046
if gcc -std=c99 -Wall -Wextra -Werror samples/c/allocate.c \
  $(pkg-config --define-variable=profile=debug --cflags --libs gsms) -o "$OUT/allocate_c" 2>"$OUT/gcc.log"; then
  ok "the C sample builds against libgsms"
else
  not_ok "the C sample builds" "$OUT/gcc.log"; finish
fi
export LD_LIBRARY_PATH="$ROOT/target/debug${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

NODE_DIR="$OUT/node"
if [ ! -f "$NODE_DIR/node_modules/playwright-core/package.json" ] ||
  ! grep -q "\"version\": \"$PLAYWRIGHT_VERSION\"" "$NODE_DIR/node_modules/playwright-core/package.json"; then
  mkdir -p "$NODE_DIR"
  if ! (cd "$NODE_DIR" && npm install --no-audit --no-fund --loglevel=error --save-exact \
    "playwright-core@$PLAYWRIGHT_VERSION") >"$OUT/npm.log" 2>&1; then
    not_ok "npm install playwright-core@$PLAYWRIGHT_VERSION" "$OUT/npm.log"; finish
  fi
fi
ok "playwright-core $PLAYWRIGHT_VERSION (driver only; the browser is Debian's $(chromium --version 2>/dev/null | head -1))"

echo "# the dashboard in headless chromium"
launch_emulator DASH --config emulator/gsms-emulator.example.toml
if [ -z "$DASH_URL" ]; then
  not_ok "the emulator starts with the example configuration" "$ROOT/target/DASH.log"; finish
fi
ok "the emulator starts with the example configuration ($DASH_URL)"
rm -f "$ROOT/target/dashboard.png"
PLAYWRIGHT_CORE="$NODE_DIR/node_modules/playwright-core" timeout 180 \
  node emulator/tests/browser/dashboard.cjs "$DASH_URL" "$OUT/allocate_c" "$ROOT/target/dashboard.png" >"$OUT/browser.log" 2>&1
rc=$?
cat "$OUT/browser.log"
passed=$((passed + $(grep -c '^ok - ' "$OUT/browser.log")))
failed=$((failed + $(grep -c '^not ok - ' "$OUT/browser.log")))
if [ $rc -ne 0 ] && ! grep -q '^not ok - ' "$OUT/browser.log"; then
  not_ok "the browser test exits 0 (exit $rc)" "$ROOT/target/DASH.log"
fi
kill "$DASH_PID" 2>/dev/null
wait "$DASH_PID" 2>/dev/null
# The example's game servers were stopped with the emulator (SIGTERM).
if pgrep -f 'target/debug/examples/echo_server' >/dev/null; then
  not_ok "no echo_server outlives the emulator: $(pgrep -af 'target/debug/examples/echo_server' | head -3)"
else
  ok "no game server outlives the emulator"
fi

echo "# cargo install --path emulator"
INSTALL="$OUT/install"
rm -rf "$INSTALL"
if CARGO_TARGET_DIR="$ROOT/target" cargo install --quiet --locked --debug --path emulator --root "$INSTALL" \
  >"$OUT/install.log" 2>&1 && "$INSTALL/bin/gsms-emulator" --version | grep -q '^gsms-emulator '; then
  ok "cargo install --path emulator installs gsms-emulator ($("$INSTALL/bin/gsms-emulator" --version))"
else
  not_ok "cargo install --path emulator" "$OUT/install.log"
fi
if "$INSTALL/bin/gsms-emulator" --config emulator/gsms-emulator.example.toml --print-config >"$OUT/printed.toml" 2>&1 &&
  grep -q '^id = 2002$' "$OUT/printed.toml"; then
  ok "the installed binary reads the example configuration"
else
  not_ok "the installed binary reads the example configuration" "$OUT/printed.toml"
fi
finish

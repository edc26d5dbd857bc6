#!/usr/bin/env bash
# Platform tests: the shipped libraries of other platforms, built here (scripts/platforms.sh) and
# run here against the emulator, which runs natively on 127.0.0.1:
#   windows-x64  gsms.dll (x86_64-pc-windows-gnu) under wine:
#                - every C-ABI test program (C_TEST_PROGRAMS in scripts/lib.sh), cross-compiled
#                  with mingw-w64 and linked with libgsms.dll.a (MinGW import library); the first
#                  (test_abi, every function) also with gsms.lib (the SDK's MSVC import library)
#                  and statically (libgsms.a);
#                - the C# tests (bindings/csharp/tests, compiled with mcs) on the Windows .NET Core
#                  3.1 runtime (PyPI's dotnetcore2 wheel), P/Invoking gsms.dll.
#   linux-arm64  libgsms.so (aarch64-unknown-linux-gnu) under qemu-user: every C-ABI test program,
#                cross-compiled with Debian's aarch64 gcc; the first also linked with libgsms.a.
# Wine 8.0 lacks bcryptprimitives.dll (Windows 10+ has it); tests/windows/bcryptprimitives.c is
# built into the wine prefix's system32 as a stand-in (scripts/platforms.sh, wine_prefix).
# Nothing here is skipped: a tool that cannot be installed fails the run with a message.
#
#   scripts/test_platforms.sh [windows-x64] [linux-arm64]     (default: both)
#
# Last line: "platforms: N passed, M failed"; exits non-zero when anything failed.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. scripts/lib.sh
. scripts/platforms.sh

WANT=("$@")
[ ${#WANT[@]} -gt 0 ] || WANT=(windows-x64 linux-arm64)
OUT="$ROOT/target/platforms"
mkdir -p "$OUT"
. scripts/checks.sh
# run_program NAME LOG COMMAND...: a test program; passes when it exits 0 and its last line says
# "N passed, 0 failed" (that line is shown).
run_program() {
  local name=$1 log=$2 rc summary
  shift 2
  timeout 300 "$@" >"$log" 2>&1
  rc=$?
  summary=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
  if [ $rc -eq 0 ] && [[ "$summary" == *" 0 failed"* ]]; then
    ok "$name ($summary)"
  else
    not_ok "$name (exit $rc${summary:+, $summary})" "$log"
  fi
}
finish() {
  echo "platforms: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit $?
}

need gcc gcc mcs mono-mcs timeout coreutils file file python3 python3 || finish
echo "# emulator (native)"
if ! cargo build --quiet -p gsms-emulator 2>"$OUT/cargo.log"; then
  not_ok "the emulator builds" "$OUT/cargo.log"
  finish
fi

CFLAGS=(-std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -g -Iinclude)

# prepare PLATFORM WORKDIR WHAT NEED-ARGS...: installs what running PLATFORM's tests needs (need
# CMD PACKAGE ...), builds its shipped libraries, empties WORKDIR; false (not ok) when it cannot.
prepare() {
  local p=$1 work=$2 what=$3
  shift 3
  echo "# $p"
  if ! need "$@"; then
    not_ok "$p: the tools to build and run it are installed"
    return 1
  fi
  rm -rf "$work"
  mkdir -p "$work"
  if ! build_platform "$p" >"$OUT/build-$p.log" 2>&1; then
    not_ok "$p: $what builds (shipping command)" "$OUT/build-$p.log"
    return 1
  fi
  ok "$p: $what built"
}

windows() {
  local dir cc=x86_64-w64-mingw32-gcc-posix w="$OUT/windows-x64"
  prepare windows-x64 "$w" "gsms.dll, libgsms.dll.a, libgsms.a, gsms.lib" wine wine /usr/lib/wine/wine64 wine64 \
    x86_64-w64-mingw32-gcc-posix gcc-mingw-w64-x86-64-posix unzip unzip || return
  dir=$(plat_libdir windows-x64)
  cp "$dir/gsms.dll" "$w/"
  # The programs need no DLL but gsms.dll: winpthreads and libgcc are linked in (-static).
  # Every program runs against gsms.dll; the first (test_abi: every function of the ABI) also
  # linked through gsms.lib and statically, which is what those variants are there to check.
  local entry t
  for entry in "${C_TEST_PROGRAMS[@]}"; do
    c_test_entry "$entry"
    t=$C_TEST
    check "windows-x64: $t links with libgsms.dll.a (MinGW import library)" \
      "$cc" "${CFLAGS[@]}" "tests/c/$t.c" "$dir/libgsms.dll.a" -static -lws2_32 -o "$w/$t.exe"
    [ "$entry" = "${C_TEST_PROGRAMS[0]}" ] || continue
    check "windows-x64: $t links with gsms.lib (MSVC import library)" \
      "$cc" "${CFLAGS[@]}" "tests/c/$t.c" "$dir/gsms.lib" -static -lws2_32 -o "$w/${t}_implib.exe"
    # shellcheck disable=SC2046 # the system libraries, one word each
    check "windows-x64: $t links statically (libgsms.a)" \
      "$cc" "${CFLAGS[@]}" "tests/c/$t.c" "$dir/libgsms.a" -static $(windows_static_libs) -o "$w/${t}_static.exe"
  done
  t=$(c_test_entry "${C_TEST_PROGRAMS[0]}" && echo "$C_TEST")
  check "windows-x64: the dynamic test program imports gsms.dll, the static one does not" sh -c \
    "x86_64-w64-mingw32-objdump -p '$w/$t.exe' | grep -q 'DLL Name: gsms.dll' &&
     ! x86_64-w64-mingw32-objdump -p '$w/${t}_static.exe' | grep -q 'DLL Name: gsms.dll'"

  if ! wine_prefix 2>"$OUT/wine-prefix.log"; then
    not_ok "windows-x64: wine prefix with the bcryptprimitives.dll stand-in" "$OUT/wine-prefix.log"
    return
  fi

  if ! c_test_emulators >"$OUT/emulators.log" 2>&1; then
    not_ok "windows-x64: the emulators start" "$OUT/emulators.log"
    return
  fi
  for entry in "${C_TEST_PROGRAMS[@]}"; do
    c_test_entry "$entry"
    for v in "" _implib _static; do
      [ -f "$w/$C_TEST$v.exe" ] || continue
      run_program "windows-x64 (wine): $C_TEST$v.exe" "$w/$C_TEST$v.log" wine "$w/$C_TEST$v.exe" "${C_ARGS[@]}"
    done
  done

  # C#: the same tests as scripts/test_samples.sh runs under mono, on Windows .NET Core.
  local dotnet
  if ! dotnet=$(need_windows_dotnet 2>"$OUT/dotnet.log"); then
    not_ok "windows-x64: the Windows .NET Core 3.1 runtime (PyPI dotnetcore2 wheel) is there" "$OUT/dotnet.log"
    return
  fi
  check "windows-x64: C# tests compile with mcs" \
    mcs -langversion:7 -warnaserror -nologo -out:"$w/csharp_tests.exe" bindings/csharp/tests/GsmsTests.cs bindings/csharp/*.cs
  printf '{ "runtimeOptions": { "tfm": "netcoreapp3.1", "framework": { "name": "Microsoft.NETCore.App", "version": "3.1.23" } } }\n' \
    >"$w/csharp_tests.runtimeconfig.json"
  launch_emulator WINCS "${SAMPLES_EMULATOR_FLAGS[@]}"
  launch_emulator WINSLOW --latency-ms 1500
  if [ -z "$WINCS_URL" ] || [ -z "$WINSLOW_URL" ]; then
    not_ok "windows-x64: the emulators for the C# tests start" "$ROOT/target/WINCS.log"
    return
  fi
  (cd "$w" && GSMS_BASE_URL=$WINCS_URL GSMS_SLOW_BASE_URL=$WINSLOW_URL timeout 300 wine "$dotnet" csharp_tests.exe >"$w/csharp-tests.log" 2>&1)
  local rc=$? n
  n=$(grep -c '^ok - ' "$w/csharp-tests.log")
  grep '^ok - ' "$w/csharp-tests.log" | sed 's/^ok - /ok - windows-x64 (wine, .NET Core 3.1): C# /'
  passed=$((passed + n))
  while IFS= read -r line; do
    not_ok "windows-x64 (wine, .NET Core 3.1): C# ${line#not ok - }"
  done < <(grep '^not ok - ' "$w/csharp-tests.log")
  if [ "$rc" -ne 0 ] || [ "$n" -eq 0 ]; then not_ok "windows-x64 (wine): C# tests exit 0 with tests run (exit $rc, $n ok)" "$w/csharp-tests.log"; fi
  wineserver -k 2>/dev/null || true
}

linux_arm64() {
  local dir cc=aarch64-linux-gnu-gcc a="$OUT/linux-arm64"
  prepare linux-arm64 "$a" "libgsms.so, libgsms.a" aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu \
    /usr/aarch64-linux-gnu/include/stdio.h libc6-dev-arm64-cross qemu-aarch64-static qemu-user-static || return
  dir=$(plat_libdir linux-arm64)
  local entry t
  for entry in "${C_TEST_PROGRAMS[@]}"; do
    c_test_entry "$entry"
    t=$C_TEST
    check "linux-arm64: $t links with libgsms.so" \
      "$cc" "${CFLAGS[@]}" "tests/c/$t.c" -L"$dir" -Wl,-rpath,"$dir" -lgsms -lpthread -o "$a/$t"
    [ "$entry" = "${C_TEST_PROGRAMS[0]}" ] || continue # the static variant: the first program (as on Windows)
    check "linux-arm64: $t links statically (libgsms.a)" \
      "$cc" "${CFLAGS[@]}" "tests/c/$t.c" "$dir/libgsms.a" -lpthread -ldl -lm -o "$a/${t}_static"
  done
  check "linux-arm64: the test programs are aarch64 executables" sh -c "file '$a/$t' | grep -q 'ARM aarch64'"
  if ! c_test_emulators >"$OUT/emulators.log" 2>&1; then
    not_ok "linux-arm64: the emulators start" "$OUT/emulators.log"
    return
  fi
  for entry in "${C_TEST_PROGRAMS[@]}"; do
    c_test_entry "$entry"
    for v in "" _static; do
      [ -f "$a/$C_TEST$v" ] || continue
      run_program "linux-arm64 (qemu): $C_TEST$v" "$a/$C_TEST$v.log" qemu-aarch64-static -L /usr/aarch64-linux-gnu "$a/$C_TEST$v" "${C_ARGS[@]}"
    done
  done
}

for p in "${WANT[@]}"; do
  case "$p" in
    windows-x64) windows ;;
    linux-arm64) linux_arm64 ;;
    *) not_ok "unknown platform $p (windows-x64, linux-arm64)" ;;
  esac
done
finish

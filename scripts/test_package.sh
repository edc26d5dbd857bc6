#!/usr/bin/env bash
# Package tests: makes dist/ (scripts/package.sh), opens every artifact and checks its contents
# (scripts/check_dist.py: files present, binary formats, every function exported, the Unity
# tarball's .meta files, GUIDs and package.json, the .nuspec), then uses each artifact the way its
# users would, against the emulator running natively:
#   SDK linux-x64     C via pkg-config (shared, --static), C and C++14 via CMake (shared, static): run
#   SDK linux-arm64   C via pkg-config (shared, --static), aarch64 gcc: run under qemu
#   SDK windows-x64   C via pkg-config with mingw (libgsms.dll.a; --static), C and C++14 via CMake
#                     with a mingw toolchain (shared, static): run under wine
#   SDK macos-arm64   C linked against libgsms.dylib by zig cc for aarch64-macos: built, not run
#   Unity tarball     installed with npm from the file (UPM reads the same npm tarball format); its
#                     C# compiled against stub UnityEngine types
#   NuGet package     installed with Debian's nuget client from dist/; a program compiled against
#                     its LibGsms.dll runs on mono (linux-x64 native asset) and on Windows .NET Core
#                     3.1 under wine, which resolves the assembly and runtimes/win-x64/native/gsms.dll
#                     from the package folder through a deps.json as `dotnet run` would
#   scripts/test_package.sh [--no-build]     (--no-build: check the dist/ that is there)
# Last line: "package: N passed, M failed"; exits non-zero when anything failed.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. scripts/lib.sh
. scripts/platforms.sh

DIST="$ROOT/dist"
OUT="$ROOT/target/package-test"
rm -rf "$OUT"
mkdir -p "$OUT"
. scripts/checks.sh
finish() {
  echo "package: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit $?
}

need gcc gcc g++ g++ cmake cmake pkg-config pkg-config mcs mono-mcs mono mono-runtime python3 python3 npm npm nuget nuget \
  unzip unzip readelf binutils x86_64-w64-mingw32-g++-posix g++-mingw-w64-x86-64-posix wine wine \
  /usr/lib/wine/wine64 wine64 aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu \
  /usr/aarch64-linux-gnu/include/stdio.h libc6-dev-arm64-cross qemu-aarch64-static qemu-user-static || finish

if [ "${1:-}" != "--no-build" ]; then
  if bash scripts/package.sh >"$OUT/package.log" 2>&1; then
    ok "scripts/package.sh makes dist/"
    grep -E '^ +[0-9]+  ' "$OUT/package.log" | sed 's/^/    /'
  else
    not_ok "scripts/package.sh makes dist/" "$OUT/package.log"
    finish
  fi
fi

# Contents.
python3 scripts/check_dist.py check "$DIST" >"$OUT/contents.log" 2>&1
cat "$OUT/contents.log" | grep -E '^(ok|not ok) - '
passed=$((passed + $(grep -c '^ok - ' "$OUT/contents.log")))
failed=$((failed + $(grep -c '^not ok - ' "$OUT/contents.log")))

V=$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -1)
cargo build --quiet -p gsms-emulator 2>"$OUT/cargo.log" || { not_ok "the emulator builds" "$OUT/cargo.log"; finish; }
launch_emulator PKG --servers 100 --poll-ms 100 --udp-echo
[ -n "$PKG_URL" ] || { not_ok "the emulator starts" "$ROOT/target/PKG.log"; finish; }
export GSMS_BASE_URL=$PKG_URL GSMS_TOKEN="XBL3.0 x=dev;dev-token"
CFLAGS=(-std=c99 -Wall -Wextra -Werror)

# expect_run NAME LOG REGEX COMMAND...: the command exits 0 and prints a line matching REGEX.
expect_run() {
  local name=$1 log=$2 re=$3
  shift 3
  if timeout 120 "$@" >"$log" 2>&1 && grep -Eq -- "$re" "$log"; then ok "$name"; else not_ok "$name" "$log"; fi
}

unpack() { # unpack ARCHIVE DIR
  mkdir -p "$2"
  case "$1" in *.zip) unzip -q "$1" -d "$2" ;; *) tar xzf "$1" -C "$2" ;; esac
}

# --- linux-x64 ---
S="$OUT/linux-x64"
unpack "$DIST/gsms-$V-linux-x64.tar.gz" "$S"
SDK="$S/gsms-$V-linux-x64"
PCX="env PKG_CONFIG_PATH=$SDK/lib/pkgconfig pkg-config"
# shellcheck disable=SC2046
check "linux-x64 SDK: C program links via pkg-config (shared)" \
  gcc "${CFLAGS[@]}" samples/c/allocate.c $($PCX --cflags --libs gsms) -o "$S/allocate"
expect_run "linux-x64 SDK: it runs against the emulator (libgsms.so from the SDK)" "$S/run.log" '^Fulfilled' \
  env LD_LIBRARY_PATH="$SDK/lib" "$S/allocate" pkg-shared
# shellcheck disable=SC2046
check "linux-x64 SDK: pkg-config --static links libgsms.a (no libgsms.so needed)" sh -c \
  "gcc ${CFLAGS[*]} samples/c/allocate.c $($PCX --static --cflags --libs gsms) -o '$S/allocate_static' && ! readelf -d '$S/allocate_static' | grep -q libgsms"
expect_run "linux-x64 SDK: the static program runs" "$S/run-static.log" '^Fulfilled' env LD_LIBRARY_PATH= "$S/allocate_static" pkg-static
for mode in shared static; do
  st=OFF
  [ $mode = static ] && st=ON
  check "linux-x64 SDK: CMake C++14 project builds with gsms::gsms ($mode; the target raises it to C++17)" sh -c \
    "cmake -S tests/cmake/cxx14_consumer -B '$S/cmake-$mode' -DCMAKE_PREFIX_PATH='$SDK' -DGSMS_USE_STATIC_LIBS=$st && cmake --build '$S/cmake-$mode' -j2"
  expect_run "linux-x64 SDK: CMake C++ consumer ($mode) runs" "$S/cmake-$mode.log" '^Fulfilled: ' \
    env LD_LIBRARY_PATH="$SDK/lib" "$S/cmake-$mode/consumer" "$GSMS_BASE_URL"
  expect_run "linux-x64 SDK: CMake C consumer ($mode) runs" "$S/cmake-c-$mode.log" '^gsms ' env LD_LIBRARY_PATH="$SDK/lib" "$S/cmake-$mode/consumer_c"
done
check "linux-x64 SDK: the static CMake consumer does not need libgsms.so" sh -c "! readelf -d '$S/cmake-static/consumer' | grep -q libgsms"
check "linux-x64 SDK: libgsms.so needs glibc 2.17 at most" sh -c \
  "test \"\$(objdump -T '$SDK/lib/libgsms.so' | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)\" = GLIBC_2.17"

# --- linux-arm64 ---
S="$OUT/linux-arm64"
unpack "$DIST/gsms-$V-linux-arm64.tar.gz" "$S"
SDK="$S/gsms-$V-linux-arm64"
PCA="env PKG_CONFIG_PATH=$SDK/lib/pkgconfig pkg-config"
QEMU=(qemu-aarch64-static -L /usr/aarch64-linux-gnu)
# shellcheck disable=SC2046
check "linux-arm64 SDK: C program links via pkg-config (aarch64 gcc, shared)" \
  aarch64-linux-gnu-gcc "${CFLAGS[@]}" samples/c/allocate.c $($PCA --cflags --libs gsms) -o "$S/allocate"
expect_run "linux-arm64 SDK: it runs under qemu" "$S/run.log" '^Fulfilled' env QEMU_SET_ENV=LD_LIBRARY_PATH="$SDK/lib" "${QEMU[@]}" "$S/allocate" arm-shared
# shellcheck disable=SC2046
check "linux-arm64 SDK: pkg-config --static links libgsms.a" sh -c \
  "aarch64-linux-gnu-gcc ${CFLAGS[*]} samples/c/allocate.c $($PCA --static --cflags --libs gsms) -o '$S/allocate_static' && ! aarch64-linux-gnu-readelf -d '$S/allocate_static' | grep -q libgsms"
expect_run "linux-arm64 SDK: the static program runs under qemu" "$S/run-static.log" '^Fulfilled' "${QEMU[@]}" "$S/allocate_static" arm-static

# --- windows-x64 ---
S="$OUT/windows-x64"
unpack "$DIST/gsms-$V-windows-x64.zip" "$S"
SDK="$S/gsms-$V-windows-x64"
PCW="env PKG_CONFIG_LIBDIR=$SDK/lib/pkgconfig PKG_CONFIG_PATH= pkg-config"
CCW=x86_64-w64-mingw32-gcc-posix
mkdir -p "$S/app"
cp "$SDK/bin/gsms.dll" "$S/app/"
# shellcheck disable=SC2046
check "windows-x64 SDK: C program links via pkg-config with mingw (libgsms.dll.a)" \
  $CCW "${CFLAGS[@]}" samples/c/allocate.c $($PCW --cflags --libs gsms) -static-libgcc -o "$S/app/allocate.exe"
# shellcheck disable=SC2046
check "windows-x64 SDK: pkg-config --static links libgsms.a (no gsms.dll import)" sh -c \
  "$CCW ${CFLAGS[*]} samples/c/allocate.c $($PCW --static --cflags --libs gsms) -static -o '$S/app/allocate_static.exe' && ! x86_64-w64-mingw32-objdump -p '$S/app/allocate_static.exe' | grep -q 'DLL Name: gsms.dll'"
for mode in shared static; do
  st=OFF
  [ $mode = static ] && st=ON
  check "windows-x64 SDK: CMake C++14 project builds with the mingw toolchain ($mode)" sh -c \
    "cmake -S tests/cmake/cxx14_consumer -B '$S/cmake-$mode' -DCMAKE_TOOLCHAIN_FILE='$ROOT/tests/cmake/mingw-w64.cmake' -DCMAKE_PREFIX_PATH='$SDK' -DGSMS_USE_STATIC_LIBS=$st && cmake --build '$S/cmake-$mode' -j2 && cp '$S/cmake-$mode/consumer.exe' '$S/app/consumer_$mode.exe'"
done
wine_prefix 2>"$OUT/wine-prefix.log" || not_ok "wine prefix with the bcryptprimitives.dll stand-in" "$OUT/wine-prefix.log"
expect_run "windows-x64 SDK: the C program runs under wine (gsms.dll from bin/)" "$S/run.log" '^Fulfilled' wine "$S/app/allocate.exe" win-shared
expect_run "windows-x64 SDK: the static C program runs under wine" "$S/run-static.log" '^Fulfilled' wine "$S/app/allocate_static.exe" win-static
for mode in shared static; do
  expect_run "windows-x64 SDK: CMake C++ consumer ($mode) runs under wine" "$S/cmake-$mode.log" '^Fulfilled: ' wine "$S/app/consumer_$mode.exe" "$GSMS_BASE_URL"
done

# --- macos-arm64 (built, not run) ---
S="$OUT/macos-arm64"
unpack "$DIST/gsms-$V-macos-arm64.tar.gz" "$S"
SDK="$S/gsms-$V-macos-arm64"
need_zigbuild >/dev/null 2>&1
# shellcheck disable=SC2046
check "macos-arm64 SDK: C program links against libgsms.dylib (zig cc -target aarch64-macos; not run)" sh -c \
  "python3 -m ziglang cc -target aarch64-macos ${CFLAGS[*]} samples/c/allocate.c $(env PKG_CONFIG_PATH="$SDK/lib/pkgconfig" pkg-config --cflags --libs gsms) -Wl,-rpath,@executable_path -o '$S/allocate' && file '$S/allocate' | grep -q 'Mach-O 64-bit arm64 executable'"

# --- Unity ---
S="$OUT/unity"
mkdir -p "$S/npm"
echo '{"name": "unity-tarball-check", "version": "1.0.0", "private": true}' >"$S/npm/package.json"
check "Unity tarball installs as a package from its file (npm install --offline)" sh -c \
  "cd '$S/npm' && npm install --offline --no-audit --no-fund --ignore-scripts '$DIST/com.libgsms.gsms-$V.tgz' && test -f node_modules/com.libgsms.gsms/package.json && test -f node_modules/com.libgsms.gsms/Plugins/Windows/x86_64/gsms.dll"
mkdir -p "$S/x"
tar xzf "$DIST/com.libgsms.gsms-$V.tgz" -C "$S/x"
U="$S/x/package"
MCS="mcs -langversion:7 -warnaserror -nologo"
check "Unity tarball: its C# (Runtime + sample) compiles against stub UnityEngine types" \
  $MCS -target:library -define:"UNITY_5_3_OR_NEWER;UNITY_2017_1_OR_NEWER;UNITY_EDITOR" -out:"$S/unity-editor.dll" \
  "$U"/Runtime/*.cs "$U/Samples~/AllocateDemo/GsmsAllocateDemo.cs" "samples/unity/Tests~/UnityEngineStubs.cs"

# --- NuGet ---
S="$OUT/nuget"
mkdir -p "$S"
check "NuGet package installs from dist/ with Debian's nuget client" \
  nuget install LibGsms -Version "$V" -Source "$DIST" -OutputDirectory "$S/packages" -NonInteractive
P="$S/packages/LibGsms.$V"
check "NuGet: a program compiles against lib/netstandard2.0/LibGsms.dll (mcs -r)" \
  $MCS -r:"$P/lib/netstandard2.0/LibGsms.dll" -out:"$S/allocate.exe" samples/csharp/Program.cs samples/csharp/SampleUtil.cs
mkdir -p "$S/mono"
cp "$S/allocate.exe" "$P/lib/netstandard2.0/LibGsms.dll" "$P/runtimes/linux-x64/native/libgsms.so" "$S/mono/"
expect_run "NuGet: it runs on mono with runtimes/linux-x64/native/libgsms.so next to it" "$S/mono.log" '^Fulfilled: ' \
  env GSMS_TITLE_ID=31 mono "$S/mono/allocate.exe" nuget-mono
# .NET: the package folder as the global packages folder lays it out (lower-case id/version),
# the app's deps.json pointing into it; the app folder holds neither LibGsms.dll nor gsms.dll.
if DOTNET=$(need_windows_dotnet 2>"$S/dotnet-get.log"); then
  mkdir -p "$S/dotnet/app" "$S/dotnet/packages/libgsms"
  cp -r "$P" "$S/dotnet/packages/libgsms/$V"
  cp "$S/allocate.exe" "$S/dotnet/app/"
  sha=$(python3 scripts/check_dist.py dotnet-app "$DIST/LibGsms.$V.nupkg" "$S/dotnet/app" allocate)
  printf '%s' "$sha" >"$S/dotnet/packages/libgsms/$V/libgsms.$V.nupkg.sha512"
  expect_run "NuGet: it runs on Windows .NET Core 3.1 under wine, LibGsms.dll and runtimes/win-x64/native/gsms.dll resolved from the package" \
    "$S/dotnet.log" '^Fulfilled: ' env GSMS_TITLE_ID=32 wine "$DOTNET" exec --additionalprobingpath "$(winepath -w "$S/dotnet/packages" 2>/dev/null)" "$(winepath -w "$S/dotnet/app/allocate.exe" 2>/dev/null)" nuget-dotnet
else
  not_ok "NuGet under .NET: the Windows .NET Core 3.1 runtime (PyPI dotnetcore2 wheel) is there" "$S/dotnet-get.log"
fi
wineserver -k 2>/dev/null || true
finish

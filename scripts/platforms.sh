# Platform builds, sourced by scripts/test_platforms.sh and scripts/package.sh (after lib.sh).
#
# Every platform is built with the shipping command (README, "Build the shipped library"):
#   cargo rustc --release --lib -p gsms --target TRIPLE --crate-type cdylib,staticlib
# (not `cargo build`: with rlib among the crate types cargo drops LTO), into target/TRIPLE/release:
#   linux-x64    x86_64-unknown-linux-gnu   libgsms.so, libgsms.a     cargo-zigbuild, glibc 2.17+
#   linux-arm64  aarch64-unknown-linux-gnu  libgsms.so, libgsms.a     cargo-zigbuild, glibc 2.17+
#   windows-x64  x86_64-pc-windows-gnu      gsms.dll, libgsms.dll.a, libgsms.a (MinGW), and
#                                           gsms.lib, an MSVC import library made by llvm-dlltool
#   macos-arm64  aarch64-apple-darwin       libgsms.dylib, libgsms.a  cargo-zigbuild (no Apple SDK)
# The Linux libraries are linked by zig against glibc 2.17's symbols, so they load on any
# distribution with glibc 2.17 or later (Debian's gcc would make them need this machine's 2.34).
# Missing tools are installed (Debian packages, rustup targets, ziglang and cargo-zigbuild from
# PyPI); when one cannot be had, the build fails and says what is missing.

PLATFORMS=(linux-x64 linux-arm64 windows-x64 macos-arm64)
ZIGLANG_VERSION=0.17.1
CARGO_ZIGBUILD_VERSION=0.24.1
LINUX_GLIBC=2.17

plat_triple() {
  case "$1" in
    linux-x64) echo x86_64-unknown-linux-gnu ;;
    linux-arm64) echo aarch64-unknown-linux-gnu ;;
    windows-x64) echo x86_64-pc-windows-gnu ;;
    macos-arm64) echo aarch64-apple-darwin ;;
    *) echo "unknown platform $1" >&2; return 1 ;;
  esac
}

# The directory holding a platform's shipped libraries.
plat_libdir() { echo "$ROOT/target/$(plat_triple "$1")/release"; }

need_rust_target() {
  rustup target list --installed 2>/dev/null | grep -qx "$1" && return 0
  if ! command -v rustup >/dev/null 2>&1; then
    echo "rustup is required to add the Rust target $1 (https://rustup.rs)" >&2
    return 1
  fi
  echo "rustup target add $1"
  rustup target add "$1" >/dev/null 2>&1 || { echo "could not add the Rust target $1 (rustup target add $1 failed)" >&2; return 1; }
}

need_zigbuild() {
  if command -v cargo-zigbuild >/dev/null 2>&1 && python3 -m ziglang version >/dev/null 2>&1; then return 0; fi
  echo "installing ziglang==$ZIGLANG_VERSION cargo-zigbuild==$CARGO_ZIGBUILD_VERSION (PyPI)"
  python3 -m pip install -q --disable-pip-version-check "ziglang==$ZIGLANG_VERSION" "cargo-zigbuild==$CARGO_ZIGBUILD_VERSION" >/dev/null 2>&1
  hash -r
  if ! command -v cargo-zigbuild >/dev/null 2>&1 || ! python3 -m ziglang version >/dev/null 2>&1; then
    echo "could not install ziglang and cargo-zigbuild from PyPI (python3 -m pip install ziglang cargo-zigbuild)" >&2
    return 1
  fi
}

# Installs what building PLATFORM needs.
need_platform() {
  local triple
  triple=$(plat_triple "$1") || return 1
  need_rust_target "$triple" || return 1
  case "$1" in
    linux-x64 | linux-arm64 | macos-arm64) need python3 python3 && need_zigbuild ;;
    windows-x64) need x86_64-w64-mingw32-gcc gcc-mingw-w64-x86-64-posix llvm-dlltool llvm llvm-readobj llvm ;;
  esac
}

# build_platform PLATFORM: builds its shipped libraries (incremental: a no-op when up to date).
build_platform() {
  local p=$1 triple dir
  triple=$(plat_triple "$p") || return 1
  need_platform "$p" || return 1
  dir=$(plat_libdir "$p")
  local args=(rustc --release --lib -p gsms --crate-type cdylib,staticlib)
  case "$p" in
    linux-*) cargo-zigbuild "${args[@]}" --target "$triple.$LINUX_GLIBC" || return 1 ;;
    macos-*) cargo-zigbuild "${args[@]}" --target "$triple" || return 1 ;;
    windows-*)
      cargo "${args[@]}" --target "$triple" || return 1
      # gsms.lib for MSVC's link.exe: an import library of gsms.dll's exports.
      if [ ! -f "$dir/gsms.lib" ] || [ "$dir/gsms.dll" -nt "$dir/gsms.lib" ]; then
        { echo "LIBRARY gsms.dll"; echo "EXPORTS"; llvm-readobj --coff-exports "$dir/gsms.dll" | sed -n 's/^ *Name: //p'; } >"$dir/gsms.def"
        llvm-dlltool -m i386:x86-64 -d "$dir/gsms.def" -D gsms.dll -l "$dir/gsms.lib" || return 1
      fi
      ;;
  esac
}

# The Windows system libraries a program linking libgsms.a (MinGW) needs besides the C runtime
# (`rustc --print native-static-libs`).
windows_static_libs() { echo "-lws2_32 -lbcrypt -ladvapi32 -lkernel32 -lntdll -luserenv -ldbghelp"; }

# The Windows .NET Core 3.1 runtime (dotnet.exe, run under wine), from PyPI's dotnetcore2 wheel,
# unpacked once into target/dotnet-win. Prints dotnet.exe's path; fails with a message.
DOTNETCORE2_VERSION=3.1.23
need_windows_dotnet() {
  local dir="$ROOT/target/dotnet-win" wheel="$ROOT/target/downloads/dotnetcore2-$DOTNETCORE2_VERSION-py3-none-win_amd64.whl"
  local exe="$dir/dotnetcore2/bin/dotnet.exe"
  if [ ! -f "$exe" ]; then
    mkdir -p "$ROOT/target/downloads"
    [ -f "$wheel" ] || python3 -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
      --platform win_amd64 "dotnetcore2==$DOTNETCORE2_VERSION" -d "$ROOT/target/downloads" >&2 || true
    rm -rf "$dir"
    mkdir -p "$dir"
    [ -f "$wheel" ] && unzip -q "$wheel" 'dotnetcore2/bin/*' -d "$dir"
  fi
  if [ ! -f "$exe" ]; then
    echo "could not get the Windows .NET runtime (pip download --platform win_amd64 dotnetcore2==$DOTNETCORE2_VERSION)" >&2
    return 1
  fi
  echo "$exe"
}

# A wine prefix in target/wine-prefix for running Windows programs; exports WINEPREFIX. Wine 8.0
# has no bcryptprimitives.dll, which Windows 10+ has and Rust's std (so gsms.dll) imports: the
# test-only stand-in tests/windows/bcryptprimitives.c is built into the prefix's system32, where
# Windows keeps its own, so programs and the .NET host find it wherever they run from.
wine_prefix() {
  export WINEPREFIX="$ROOT/target/wine-prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
  if [ ! -f "$WINEPREFIX/system.reg" ]; then
    # wineboot returns before the wineserver has written the registry: wait for it to exit.
    wineboot --init >"$ROOT/target/wineboot.log" 2>&1
    wineserver -w >>"$ROOT/target/wineboot.log" 2>&1
    [ -f "$WINEPREFIX/system.reg" ] || { echo "wineboot could not create $WINEPREFIX:"; cat "$ROOT/target/wineboot.log"; return 1; } >&2
  fi
  local dll="$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
  if [ ! -f "$dll" ] || [ "$ROOT/tests/windows/bcryptprimitives.c" -nt "$dll" ]; then
    x86_64-w64-mingw32-gcc-posix -shared -O2 -Wall -Werror -o "$dll" "$ROOT/tests/windows/bcryptprimitives.c" -ladvapi32 || return 1
  fi
}

#!/usr/bin/env bash
# Puts the built libgsms where the engine integrations expect it. Stages whatever has been built;
# says what is missing.
#
#   samples/stage_native_libs.sh unity  [--profile release|debug] [--dest DIR]
#       assembles the Unity package in DIR (default target/unity/com.libgsms.gsms): samples/unity,
#       the C# layer from bindings/csharp, the native plugins, and their .meta files with import
#       settings (scripts/package.py unity). Then: Package Manager > Add package from disk >
#       DIR/package.json. scripts/package.sh makes the tarball of the same package.
#   samples/stage_native_libs.sh unreal [--profile release|debug] [--dest DIR]
#       copies gsms.h and the libraries into the plugin (default samples/unreal/Gsms):
#       Source/ThirdParty/GsmsLibrary/include/gsms.h and Binaries/ThirdParty/GsmsLibrary/<Platform>/,
#       the one folder per platform GsmsLibrary.Build.cs links and stages from.
#
# Build first (scripts/platforms.sh builds the first four the way the release packages do):
#   cargo build --release                                           # this host, Linux x86_64 here
#   cargo rustc --release --lib -p gsms --crate-type cdylib,staticlib --target TRIPLE, TRIPLE one of
#     x86_64-unknown-linux-gnu, aarch64-unknown-linux-gnu, x86_64-pc-windows-gnu (then gsms.lib:
#     scripts/platforms.sh), aarch64-apple-darwin; with their toolchains: x86_64-pc-windows-msvc,
#     x86_64-apple-darwin, aarch64-linux-android (Android NDK), aarch64-apple-ios (Xcode)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
engine=${1:-}
shift || true
profile=release
dest=""
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile=$2; shift 2 ;;
    --dest) dest=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
T="$ROOT/target"

# first_built FILE...: the first that exists (nothing when none does).
first_built() {
  local f
  for f in "$@"; do
    [ -f "$f" ] && { echo "$f"; return 0; }
  done
  return 0
}
# The library of each platform: the cross-target directory, else (this host) target/<profile>.
linux_x64=$(first_built "$T/x86_64-unknown-linux-gnu/$profile/libgsms.so" "$T/$profile/libgsms.so")
linux_arm64=$(first_built "$T/aarch64-unknown-linux-gnu/$profile/libgsms.so")
win_dll=$(first_built "$T/x86_64-pc-windows-gnu/$profile/gsms.dll" "$T/x86_64-pc-windows-msvc/$profile/gsms.dll")
win_implib=""
[ -n "$win_dll" ] && win_implib=$(first_built "$(dirname "$win_dll")/gsms.lib" "$(dirname "$win_dll")/gsms.dll.lib")
case "$win_implib" in */gsms.lib) [ -f "$(dirname "$win_implib")/gsms.dll.lib" ] && win_implib="$(dirname "$win_implib")/gsms.dll.lib" ;; esac
mac_arm=$(first_built "$T/aarch64-apple-darwin/$profile/libgsms.dylib")
mac_x64=$(first_built "$T/x86_64-apple-darwin/$profile/libgsms.dylib")
android=$(first_built "$T/aarch64-linux-android/$profile/libgsms.so")
ios=$(first_built "$T/aarch64-apple-ios/$profile/libgsms.a")

missing() { echo "missing $1 (not built)"; }

# mac_dylib OUT: one universal dylib when both are built (lipo), else the one there is.
mac_dylib() {
  local lipo
  lipo=$(command -v lipo || command -v llvm-lipo || true)
  if [ -n "$mac_arm" ] && [ -n "$mac_x64" ] && [ -n "$lipo" ]; then
    "$lipo" -create "$mac_arm" "$mac_x64" -output "$1" && echo "$1"
  else
    first_built "$mac_arm" "$mac_x64"
  fi
  return 0
}

case "$engine" in
  unity)
    dest=${dest:-"$T/unity/com.libgsms.gsms"}
    args=()
    [ -n "$linux_x64" ] && args+=(--native "linux-x64=$linux_x64") || missing "Linux x86_64 libgsms.so"
    [ -n "$linux_arm64" ] && args+=(--native "linux-arm64=$linux_arm64") || missing "Linux arm64 libgsms.so"
    [ -n "$win_dll" ] && args+=(--native "windows-x64=$win_dll") || missing "Windows gsms.dll"
    mkdir -p "$T/unity"
    mac=$(mac_dylib "$T/unity/libgsms.dylib")
    [ -n "$mac" ] && args+=(--native "macos-arm64=$mac") || missing "macOS libgsms.dylib"
    [ -n "$android" ] && args+=(--native "android-arm64=$android") || missing "Android arm64 libgsms.so"
    [ -n "$ios" ] && args+=(--native "ios-arm64=$ios") || missing "iOS libgsms.a"
    python3 "$ROOT/scripts/package.py" unity --out "$dest" "${args[@]}" >/dev/null
    (cd "$dest" && find . -type f ! -name '*.meta' | sort | sed 's|^\./|staged  |')
    ;;
  unreal)
    dest=${dest:-"$ROOT/samples/unreal/Gsms"}
    bin="$dest/Binaries/ThirdParty/GsmsLibrary"
    # put SOURCE DESTINATION
    put() {
      if [ -n "$1" ] && [ -f "$1" ]; then
        mkdir -p "$(dirname "$2")"
        cp "$1" "$2"
        echo "staged  ${2#"$dest"/}"
      else
        missing "${2#"$dest"/}"
      fi
    }
    put "$ROOT/include/gsms.h" "$dest/Source/ThirdParty/GsmsLibrary/include/gsms.h"
    put "$linux_x64" "$bin/Linux/libgsms.so"
    put "$linux_arm64" "$bin/LinuxArm64/libgsms.so"
    put "$win_dll" "$bin/Win64/gsms.dll"
    put "$win_implib" "$bin/Win64/gsms.lib"
    mkdir -p "$T/unity"
    put "$(mac_dylib "$T/unity/libgsms.dylib")" "$bin/Mac/libgsms.dylib"
    put "$android" "$bin/Android/arm64-v8a/libgsms.so"
    put "$ios" "$bin/IOS/libgsms.a"
    ;;
  *)
    echo "usage: $0 unity|unreal [--profile release|debug] [--dest DIR]" >&2
    exit 2
    ;;
esac

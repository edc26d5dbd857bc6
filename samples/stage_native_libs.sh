#!/usr/bin/env bash
# Copies the built libgsms (and gsms.h) into the Unity package or the Unreal plugin, in the layout
# their .meta files / Build.cs expect. Stages whatever has been built; says what is missing.
#
#   samples/stage_native_libs.sh unity|unreal [--profile release|debug] [--dest DIR]
#
# Build first, per platform (cross targets need their toolchains: MSVC, Xcode, the Android NDK):
#   cargo build --release                                   # this host (Linux x86_64 here)
#   cargo build --release --target x86_64-pc-windows-msvc
#   cargo build --release --target aarch64-apple-darwin && cargo build --release --target x86_64-apple-darwin
#   cargo build --release --target aarch64-linux-android
#   cargo build --release --target aarch64-apple-ios
# --dest defaults to samples/unity or samples/unreal/Gsms/Source/ThirdParty/GsmsLibrary.
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

# stage SOURCE DESTINATION: copies when built, else reports it.
stage() {
  if [ -f "$1" ]; then
    mkdir -p "$(dirname "$2")"
    cp "$1" "$2"
    echo "staged  ${2#"$dest"/}"
  else
    echo "missing ${1#"$ROOT"/} (not built)"
  fi
}

# macOS wants one universal dylib.
stage_mac() {
  local arm="$T/aarch64-apple-darwin/$profile/libgsms.dylib" x64="$T/x86_64-apple-darwin/$profile/libgsms.dylib"
  if [ -f "$arm" ] && [ -f "$x64" ] && command -v lipo >/dev/null 2>&1; then
    mkdir -p "$(dirname "$1")"
    lipo -create "$arm" "$x64" -output "$1"
    echo "staged  ${1#"$dest"/} (universal)"
  elif [ -f "$arm" ]; then
    stage "$arm" "$1"
  else
    stage "$x64" "$1"
  fi
}

case "$engine" in
  unity)
    dest=${dest:-"$ROOT/samples/unity"}
    # The package's C# layer is bindings/csharp (one source of truth; the .meta files stay here).
    for f in "$ROOT"/bindings/csharp/*.cs; do stage "$f" "$dest/Runtime/$(basename "$f")"; done
    stage "$T/$profile/libgsms.so" "$dest/Plugins/Linux/x86_64/libgsms.so"
    stage "$T/x86_64-pc-windows-msvc/$profile/gsms.dll" "$dest/Plugins/Windows/x86_64/gsms.dll"
    stage_mac "$dest/Plugins/macOS/libgsms.dylib"
    stage "$T/aarch64-linux-android/$profile/libgsms.so" "$dest/Plugins/Android/arm64-v8a/libgsms.so"
    stage "$T/aarch64-apple-ios/$profile/libgsms.a" "$dest/Plugins/iOS/libgsms.a"
    ;;
  unreal)
    dest=${dest:-"$ROOT/samples/unreal/Gsms/Source/ThirdParty/GsmsLibrary"}
    stage "$ROOT/include/gsms.h" "$dest/include/gsms.h"
    stage "$T/$profile/libgsms.so" "$dest/lib/Linux/libgsms.so"
    stage "$T/x86_64-pc-windows-msvc/$profile/gsms.dll" "$dest/lib/Win64/gsms.dll"
    stage "$T/x86_64-pc-windows-msvc/$profile/gsms.dll.lib" "$dest/lib/Win64/gsms.dll.lib"
    stage_mac "$dest/lib/Mac/libgsms.dylib"
    stage "$T/aarch64-linux-android/$profile/libgsms.so" "$dest/lib/Android/arm64-v8a/libgsms.so"
    stage "$T/aarch64-apple-ios/$profile/libgsms.a" "$dest/lib/IOS/libgsms.a"
    ;;
  *)
    echo "usage: $0 unity|unreal [--profile release|debug] [--dest DIR]" >&2
    exit 2
    ;;
esac

#!/usr/bin/env bash
# Release packages into dist/ (scripts/test_package.sh opens and checks every one):
#   gsms-<v>-<platform>.tar.gz|.zip  SDK per platform (linux-x64, linux-arm64, windows-x64, macos-arm64):
#                                    include/gsms.h + gsms.hpp, the libraries, the CMake package,
#                                    pkg-config files, the C# sources, README, CHANGELOG, licenses
#   com.libgsms.gsms-<v>.tgz         Unity package (Package Manager > Add package from tarball)
#   LibGsms.<v>.nupkg                NuGet package: lib/netstandard2.0/LibGsms.dll (mcs) and
#                                    runtimes/<rid>/native/ for every platform
# Every library is built with the shipping command (scripts/platforms.sh); macos-arm64 is built
# here but cannot be run here. Installs what it needs; fails, saying what, when it cannot.
#
#   scripts/package.sh [--out DIR] [PLATFORM ...]      (default: dist/, every platform)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. scripts/lib.sh
. scripts/platforms.sh

out="$ROOT/dist"
want=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) want+=("$1"); shift ;;
  esac
done
[ ${#want[@]} -gt 0 ] || want=("${PLATFORMS[@]}")

need cmake cmake mcs mono-mcs python3 python3
for p in "${want[@]}"; do
  echo "== build $p ($(plat_triple "$p"))"
  build_platform "$p"
done

echo "== managed assembly (mcs)"
mkdir -p target/package
mcs -langversion:7 -warnaserror -nologo -optimize+ -target:library -out:target/package/LibGsms.dll \
  -doc:target/package/LibGsms.xml -nowarn:1591 bindings/csharp/*.cs

echo "== assemble $out"
args=()
for p in "${want[@]}"; do args+=(--platform "$p"); done
python3 scripts/package.py dist --out "$out" --managed target/package/LibGsms.dll "${args[@]}"

#!/usr/bin/env bash
# Compiles the C benchmark programs (benches/c/) so they never rot; runs nothing.
#   scripts/build_benches.sh [LIBDIR] [OUTDIR]
# LIBDIR holds libgsms.so (default target/debug, built here when missing); OUTDIR receives
# bench_gsms, bench_curl and bench_raw (default target/benches). scripts/bench.sh calls it with the
# release (LTO) library; scripts/test.sh calls it with no arguments as a compile check.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. scripts/lib.sh
need gcc gcc curl-config libcurl4-openssl-dev /usr/include/openssl/ssl.h libssl-dev

LIBDIR=$(realpath -m "${1:-target/debug}")
OUT=$(realpath -m "${2:-target/benches}")
if [ ! -f "$LIBDIR/libgsms.so" ]; then
  cargo build --quiet -p gsms
fi
mkdir -p "$OUT"
CFLAGS="-std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Iinclude"
gcc $CFLAGS benches/c/bench_gsms.c -L"$LIBDIR" -Wl,-rpath,"$LIBDIR" -lgsms -lpthread -o "$OUT/bench_gsms"
gcc $CFLAGS benches/c/bench_curl.c $(curl-config --cflags) $(curl-config --libs) -lpthread -o "$OUT/bench_curl"
# The floor: a raw socket (OpenSSL for HTTPS), no HTTP library.
gcc $CFLAGS benches/c/bench_raw.c -lssl -lcrypto -o "$OUT/bench_raw"
echo "built $OUT/bench_gsms, $OUT/bench_curl and $OUT/bench_raw (libgsms from $LIBDIR)"

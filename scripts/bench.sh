#!/usr/bin/env bash
# The benchmark command (BENCHMARKS.md): libgsms against libcurl and against a raw-socket floor
# (benches/c/bench_raw.c: no HTTP library, OpenSSL for HTTPS), side by side, in one run.
#
#   bash scripts/bench.sh            full run (about 8 minutes on 2 cores, builds included)
#   BENCH_QUICK=1 bash scripts/bench.sh   fewer rounds and calls (a smoke run, about 4 minutes)
#   bash scripts/bench.sh --serve    build and start the servers only, write their URLs and the
#                                    programs' paths to target/bench/serve.env, wait (for profiling)
#
# What it does: installs what is missing (Debian packages), builds the shipped artifacts the way
# they ship (`cargo rustc --release --lib --crate-type cdylib|staticlib`, so LTO applies), the
# release emulator and the C benchmark programs; generates a CA and a leaf certificate for
# 127.0.0.1; starts nginx (non-daemon child, own prefix and config in a temp dir) answering every
# POST with PROTOCOL.md's fulfilled vector over HTTP and HTTPS, and the emulator; pins servers to
# one core and clients to another; then runs libcurl, libgsms and the floor in turn for several rounds.
# Raw output goes to target/bench/results.txt; the summary is printed at the end.
# Not part of the test command: timings depend on the machine. scripts/build_benches.sh is.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. scripts/lib.sh

need nginx nginx-light gcc gcc curl-config libcurl4-openssl-dev /usr/include/openssl/ssl.h libssl-dev openssl openssl taskset util-linux \
  valgrind valgrind hyperfine hyperfine python3 python3 strip binutils strace strace
[ -f /etc/ssl/certs/ca-certificates.crt ] || need update-ca-certificates ca-certificates

QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
  ROUNDS=2 WARM_N=2000 COLD_N=300 COLD_TLS_N=100 CURL_BUNDLE_N=20 ASYNC_N=2000 TPUT_N=5000 MEM_N=20000 CANCEL_N=20 FREE_N=10 WARMUP_N=5 CG=0
else
  ROUNDS=7 WARM_N=5000 COLD_N=1000 COLD_TLS_N=200 CURL_BUNDLE_N=30 ASYNC_N=5000 TPUT_N=20000 MEM_N=100000 CANCEL_N=50 FREE_N=20 WARMUP_N=15 CG=1
fi
if [ "$(nproc)" -ge 2 ]; then
  SERVER_CPU=1 CLIENT_CPU=0
else
  SERVER_CPU=0 CLIENT_CPU=0
fi
CLIENT="taskset -c $CLIENT_CPU"

OUT="$ROOT/target/bench"
TMP=$(mktemp -d /tmp/gsms-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
trap "exit 130" INT TERM
mkdir -p "$OUT"
RESULTS="$OUT/results.txt"
: >"$RESULTS"
log() { echo "# $*" | tee -a "$RESULTS"; }
FAILED=0
run() { # run CMD...: appends the command and its output to the results file, shows its RESULT lines
  echo "+ $*" >>"$RESULTS"
  local rc=0
  "$@" >"$TMP/run.out" 2>&1 || rc=$?
  cat "$TMP/run.out" >>"$RESULTS"
  grep -E '^RESULT' "$TMP/run.out" || true
  if [ "$rc" != 0 ]; then
    echo "FAILED (exit $rc): $*" | tee -a "$RESULTS"
    FAILED=1
  fi
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listens on port $1"; return 1
}

T0=$SECONDS
log "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
log "versions: $(rustc --version), $(gcc --version | head -1), libcurl $(curl-config --version | cut -d' ' -f2) ($(curl-config --ssl-backends)), $(nginx -v 2>&1 | cut -d' ' -f3)"
log "pinning: servers on CPU $SERVER_CPU, clients on CPU $CLIENT_CPU; rounds=$ROUNDS"

# ---- build the shipped artifacts (LTO really applies only when crate-type is given alone) ----
log "build: cargo rustc --release --lib -p gsms --crate-type cdylib (then staticlib)"
cargo build --quiet --release -p gsms-emulator
cargo build --quiet -p gsms
mkdir -p "$TMP/lib" "$TMP/dev"
cp target/debug/libgsms.so "$TMP/dev/"
if [ "${BENCH_ALL_PROFILES:-0}" = 1 ]; then
  # What a plain `cargo build --release` gives (rlib among the crate types: LTO dropped), and
  # opt-level 3 with LTO, for the size table.
  cargo build --quiet --release -p gsms
  cp target/release/libgsms.so "$TMP/lib/libgsms-cargo-build-release.so"
  cargo rustc --quiet --release --lib -p gsms --crate-type cdylib --config 'profile.release.opt-level=3'
  cp target/release/libgsms.so "$TMP/lib/libgsms-opt3-lto.so"
fi
cargo rustc --quiet --release --lib -p gsms --crate-type cdylib
cp target/release/libgsms.so "$TMP/lib/"
cargo rustc --quiet --release --lib -p gsms --crate-type staticlib
cp target/release/libgsms.a "$TMP/lib/"
ALLOC_BENCH=$(cargo bench --no-run -p gsms --bench alloc_per_call --message-format=json 2>/dev/null |
  python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "alloc_per_call" and m.get("executable"):
        print(m["executable"])')
bash scripts/build_benches.sh "$TMP/lib" "$TMP/bin" >/dev/null
BG="$TMP/bin/bench_gsms" BC="$TMP/bin/bench_curl" BR="$TMP/bin/bench_raw"
log "build done after $((SECONDS - T0)) s"

# ---- certificates: a CA and a leaf for 127.0.0.1/localhost (CA:FALSE, as rustls requires) ----
C="$TMP/tls"
mkdir -p "$C"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$C/ca.key" -out "$C/ca.pem" -days 2 -subj "/CN=gsms bench CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$C/leaf.key" -out "$C/leaf.csr" -subj "/CN=localhost" 2>/dev/null
printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
  "extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost" >"$C/leaf.ext"
openssl x509 -req -in "$C/leaf.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -CAcreateserial -days 2 \
  -extfile "$C/leaf.ext" -out "$C/leaf.pem" 2>/dev/null
cat "$C/leaf.pem" "$C/ca.pem" >"$C/chain.pem"
# libcurl gets the system trust store plus the test CA (what a shipped game would load); libgsms
# has Mozilla's roots built in and gets the test CA as an extra root: both verify against ~150 roots.
cat /etc/ssl/certs/ca-certificates.crt "$C/ca.pem" >"$C/curl-bundle.pem"

# ---- nginx: every request answered with the fulfilled vector ----
N="$TMP/nginx"
mkdir -p "$N/tmp"
HTTP_PORT=$(free_port) HTTPS_PORT=$(free_port)
VECTOR='{"pollIntervalMilliseconds":"60000","fulfillmentState":"Fulfilled","hostName":"gameserver-0001.cloudapp.net","region":"WestUS","portMappings":[{"Key":"GameData","Value":{"internal":7777,"external":31000}},{"Key":"RDP","Value":{"internal":3389,"external":3389}}]}'
cat >"$N/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $N/nginx.pid;
error_log $N/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $N/tmp/body;
  proxy_temp_path $N/tmp/proxy;
  fastcgi_temp_path $N/tmp/fastcgi;
  uwsgi_temp_path $N/tmp/uwsgi;
  scgi_temp_path $N/tmp/scgi;
  keepalive_requests 100000000;
  keepalive_timeout 600s;
  server {
    listen 127.0.0.1:$HTTP_PORT;
    listen 127.0.0.1:$HTTPS_PORT ssl;
    ssl_certificate $C/chain.pem;
    ssl_certificate_key $C/leaf.key;
    location / {
      default_type application/json;
      add_header X-XblCorrelationId 00000000-0000-0000-0000-00000000b3c4;
      return 200 '$VECTOR';
    }
  }
}
EOF
taskset -c "$SERVER_CPU" nginx -p "$N" -c "$N/nginx.conf" -e "$N/error.log" &
PIDS+=($!)
wait_port "$HTTP_PORT"
wait_port "$HTTPS_PORT"
HTTP="http://127.0.0.1:$HTTP_PORT" HTTPS="https://127.0.0.1:$HTTPS_PORT"

# ---- the emulator (release build), for throughput ----
EMU_OUT="$TMP/emu.out"
taskset -c "$SERVER_CPU" target/release/gsms-emulator --bind 127.0.0.1:0 --quiet --lifetime-secs 100000 \
  --servers 4 >"$EMU_OUT" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
  EMU=$(sed -n 's/^gsms-emulator listening on //p' "$EMU_OUT")
  [ -n "$EMU" ] && break
  sleep 0.05
done
[ -n "$EMU" ] || { echo "the emulator did not start"; cat "$EMU_OUT"; exit 1; }
log "servers: nginx $HTTP $HTTPS (pid ${PIDS[0]}), emulator $EMU"
if [ "${1:-}" = --serve ]; then
  printf 'export HTTP=%s HTTPS=%s EMU=%s CA=%s BUNDLE=%s BG=%s BC=%s BR=%s LIB=%s\n' "$HTTP" "$HTTPS" "$EMU" \
    "$C/ca.pem" "$C/curl-bundle.pem" "$BG" "$BC" "$BR" "$TMP/lib" | tee "$OUT/serve.env"
  echo "serving until interrupted"
  wait
fi

# ---- 1-3: warm latency, cold calls, CPU per request; libcurl, libgsms and the raw-socket floor
# take turns (the order rotates from round to round) ----
for r in $(seq 1 "$ROUNDS"); do
  log "round $r"
  case $((r % 3)) in 1) order="curl gsms raw" ;; 2) order="gsms raw curl" ;; 0) order="raw curl gsms" ;; esac
  for who in $order; do
    if [ "$who" = raw ]; then
      run $CLIENT "$BR" warm "$HTTP" "$WARM_N"
      run $CLIENT "$BR" warm "$HTTPS" "$WARM_N" "$C/ca.pem"
      run $CLIENT "$BR" cold "$HTTP" "$COLD_N"
      run $CLIENT "$BR" cold "$HTTPS" "$COLD_TLS_N" "$C/ca.pem"
    elif [ "$who" = curl ]; then
      run $CLIENT "$BC" warm "$HTTP" "$WARM_N"
      run $CLIENT "$BC" warm "$HTTPS" "$WARM_N" "$C/curl-bundle.pem"
      run $CLIENT "$BC" cold "$HTTP" "$COLD_N"
      # OpenSSL 3 takes ~50 ms to load the system bundle: fewer calls, same p50.
      run $CLIENT "$BC" cold "$HTTPS" "$CURL_BUNDLE_N" "$C/curl-bundle.pem"
      BENCH_LABEL=libcurl-1root run $CLIENT "$BC" cold "$HTTPS" "$COLD_TLS_N" "$C/ca.pem"
    else
      run $CLIENT "$BG" warm "$HTTP" "$WARM_N"
      run $CLIENT "$BG" warm "$HTTPS" "$WARM_N" "$C/ca.pem"
      run $CLIENT "$BG" cold "$HTTP" "$COLD_N"
      run $CLIENT "$BG" cold "$HTTPS" "$COLD_TLS_N" "$C/ca.pem"
    fi
  done
done

# ---- process-level cold start (library loading included), by hyperfine ----
log "hyperfine: one process = load the library, one cold HTTPS call"
hyperfine -N --warmup 5 --runs 60 --export-json "$TMP/hf.json" \
  -n libcurl "$CLIENT $BC cold $HTTPS 1 $C/curl-bundle.pem" \
  -n libgsms "$CLIENT $BG cold $HTTPS 1 $C/ca.pem" >>"$RESULTS" 2>&1
python3 - "$TMP/hf.json" <<'EOF' | tee -a "$RESULTS"
import json, statistics, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(f"RESULT {r['command']} hyperfine_process_cold_https median_ms={statistics.median(r['times'])*1e3:.2f} "
          f"mean_ms={r['mean']*1e3:.2f} stddev_ms={r['stddev']*1e3:.2f} user_ms={r['user']*1e3:.2f} system_ms={r['system']*1e3:.2f}")
EOF

# ---- 4: the game thread: async start, dispatch, cancel, free with stuck requests ----
log "async start / dispatch (ON_DISPATCH, nginx HTTP): client pinned to one core, then allowed both"
run $CLIENT "$BG" async "$HTTP" "$ASYNC_N"
BENCH_LABEL=libgsms-2cores run taskset -c 0,1 "$BG" async "$HTTP" "$ASYNC_N"
log "cancel latency and free latency, requests stuck on a listener that never answers"
run $CLIENT "$BG" cancel "$CANCEL_N"
run $CLIENT "$BG" free "$FREE_N" 8
log "first call of a new client, HTTPS, 300 ms after gsms_client_new, without / with gsms_client_warmup"
run $CLIENT "$BG" warmup "$HTTPS" "$WARMUP_N" "$C/ca.pem"

# ---- 5: throughput, one client, 1/8/64 operations in flight ----
for target in emulator nginx nginx-https; do
  case $target in emulator) url=$EMU ;; nginx) url=$HTTP ;; nginx-https) url=$HTTPS ;; esac
  for inflight in 1 8 64; do
    for workers in 2 "$inflight"; do
      [ "$inflight" = 1 ] && [ "$workers" = 1 ] && continue
      BENCH_CA="$C/ca.pem" BENCH_TARGET=$target run $CLIENT "$BG" tput "$url" "$inflight" "$TPUT_N" "$workers"
    done
  done
done

# ---- 6: memory ----
log "memory (nginx HTTP): idle client, per in-flight operation, after $MEM_N calls"
run $CLIENT "$BG" mem "$HTTP" "$MEM_N"
run $CLIENT "$BC" mem "$HTTP" "$MEM_N"
log "allocations per call, counted by a counting global allocator (benches/alloc_per_call.rs)"
GSMS_BENCH_URL=$HTTP GSMS_BENCH_CALLS=$((MEM_N / 2)) run $CLIENT "$ALLOC_BENCH" --bench
log "peak RSS of $WARM_N warm HTTPS calls (/usr/bin/time -v)"
for who in curl gsms; do
  if [ $who = curl ]; then cmd=("$BC" warm "$HTTPS" "$WARM_N" "$C/curl-bundle.pem"); else cmd=("$BG" warm "$HTTPS" "$WARM_N" "$C/ca.pem"); fi
  /usr/bin/time -v $CLIENT "${cmd[@]}" 2>"$TMP/time.txt" >/dev/null
  echo "RESULT lib$who maxrss_warm_https kib=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$TMP/time.txt")" | tee -a "$RESULTS"
done

# ---- instructions per warm request (callgrind, repeatable): difference of two run lengths ----
if [ "$CG" = 1 ]; then
  log "callgrind: instructions per warm request = (Ir(1200 calls) - Ir(200 calls)) / 1000"
  for proto in http https; do
    if [ $proto = http ]; then url=$HTTP; else url=$HTTPS; fi
    for who in curl gsms raw; do
      case $who in curl) bin=$BC ca=$C/curl-bundle.pem lbl=libcurl ;; gsms) bin=$BG ca=$C/ca.pem lbl=libgsms ;; raw) bin=$BR ca=$C/ca.pem lbl=raw ;; esac
      irs=()
      for n in 200 1200; do
        valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.out" "$bin" warm "$url" $n "$ca" >/dev/null 2>"$TMP/cg.err"
        irs+=("$(sed -n 's/.*Collected : //p' "$TMP/cg.err" | tr -d ' ')")
      done
      echo "RESULT $lbl callgrind_warm_$proto ir_per_request=$(((irs[1] - irs[0]) / 1000))" | tee -a "$RESULTS"
    done
  done
fi

# ---- system calls per warm request (strace -f -c), and threads started per request ----
log "strace: system calls per warm request = (calls(1200 requests) - calls(200 requests)) / 1000"
for proto in http https; do
  if [ $proto = http ]; then url=$HTTP; else url=$HTTPS; fi
  for who in curl gsms raw; do
    case $who in curl) bin=$BC ca=$C/curl-bundle.pem lbl=libcurl ;; gsms) bin=$BG ca=$C/ca.pem lbl=libgsms ;; raw) bin=$BR ca=$C/ca.pem lbl=raw ;; esac
    tot=() clo=() snd=()
    for n in 200 1200; do
      strace -f -c -o "$TMP/st.txt" "$bin" warm "$url" $n "$ca" >/dev/null
      tot+=("$(awk '$NF=="total"{print $4}' "$TMP/st.txt")")
      clo+=("$(awk '$NF ~ /^clone/{s+=$4} END{print s+0}' "$TMP/st.txt")")
      snd+=("$(awk '$NF ~ /^(sendto|write|sendmsg|writev)$/{s+=$4} END{print s+0}' "$TMP/st.txt")")
    done
    echo "RESULT $lbl strace_warm_$proto syscalls_per_request=$(python3 -c "print(round(((${tot[1]})-(${tot[0]}))/1000,2))") writes_per_request=$(python3 -c "print(round(((${snd[1]})-(${snd[0]}))/1000,2))") threads_started_per_request=$(python3 -c "print(round(((${clo[1]})-(${clo[0]}))/1000,3))")" | tee -a "$RESULTS"
  done
done

# ---- 7: sizes ----
log "sizes (stripped with strip --strip-all)"
sz() { strip --strip-all -o "$TMP/s" "$1" && stat -c %s "$TMP/s"; }
size() { echo "RESULT size $1 bytes=$(sz "$2")" | tee -a "$RESULTS"; }
size "libgsms.so:release(cargo-rustc-cdylib,lto,profile.release)" "$TMP/lib/libgsms.so"
gcc -std=c99 -O2 -Iinclude samples/c/allocate.c "$TMP/lib/libgsms.a" -lpthread -ldl -lm -o "$TMP/allocate_static"
size "allocate(static-libgsms.a):release(cargo-rustc-staticlib,lto,profile.release)" "$TMP/allocate_static"
gcc -std=c99 -O2 -Iinclude samples/c/allocate.c -L"$TMP/lib" -lgsms -o "$TMP/allocate_dynamic"
size "allocate(dynamic):gcc-O2" "$TMP/allocate_dynamic"
size "libgsms.so:dev(cargo-build)" "$TMP/dev/libgsms.so"
[ -f "$TMP/lib/libgsms-cargo-build-release.so" ] &&
  size "libgsms.so:release(cargo-build,rlib-in-crate-types:lto-dropped,profile.release)" "$TMP/lib/libgsms-cargo-build-release.so"
[ -f "$TMP/lib/libgsms-opt3-lto.so" ] && size "libgsms.so:release(cargo-rustc-cdylib,lto,opt-3)" "$TMP/lib/libgsms-opt3-lto.so"
for l in libcurl.so.4 libssl.so.3 libcrypto.so.3; do
  f=$(ldconfig -p | awk -v l="$l" '$1==l && /x86-64/{print $NF; exit}')
  [ -n "$f" ] && echo "RESULT size $l:debian(already-stripped) bytes=$(stat -L -c %s "$f")" | tee -a "$RESULTS"
done

log "total time $((SECONDS - T0)) s"
echo
# The summary exits non-zero when a contract figure (cancel <= 100 ms, free <= 250 ms) is missed.
SUMMARY_RC=0
python3 "$ROOT/benches/summarize.py" "$RESULTS" >"$OUT/summary.md" || SUMMARY_RC=$?
cat "$OUT/summary.md"
[ "$FAILED" = 0 ] || { echo "some benchmark programs failed: see $RESULTS"; exit 1; }
[ "$SUMMARY_RC" = 0 ] || { echo "a contract figure was missed or not measured (see Targets above)"; exit 1; }

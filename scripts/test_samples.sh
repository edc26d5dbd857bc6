#!/usr/bin/env bash
# Builds and runs the samples and binding tests against a freshly started emulator:
#   C    samples/c          gcc, linked through pkgconfig/gsms.pc (shared) and against libgsms.a
#   flow samples/c/full_flow.c, samples/cpp/full_flow.cpp, samples/csharp/FullFlow.cs: QoS servers,
#        measurement, variants, inline cluster, ticket, UDP echo (emulator with two QoS regions)
#   C++  samples/cpp        CMake + find_package(gsms) (cmake/), Queued progress, UDP echo, Ctrl-C
#        bindings/cpp/tests gsms.hpp tests under AddressSanitizer
#   C#   samples/csharp     mcs + mono, Queued progress, UDP echo
#        bindings/csharp/tests  take_result path, GsmsException on bad arguments, cancellation, ...
#   Unity  Runtime/ staged from bindings/csharp, compiled with stub UnityEngine types (editor and
#          iOS defines), reflection checks, GsmsAllocateDemo driven frame by frame
#   Unreal every gsms_ name exists in gsms.h; the subsystem compiled against stub UE headers and
#          driven under AddressSanitizer; libraries staged where Build.cs looks
#   install: cmake/gsmsInstall.cmake into a prefix, then CMake and pkg-config from that prefix
#
#   scripts/test_samples.sh
#
# Each async sample first finds its title's only server busy (the blocking C sample takes it for
# the emulator's 2 s lifetime), so Queued progress shows. A check that cannot run prints a line
# starting "SKIPPED" and is counted skipped. Last line: "samples: N passed, M failed, K skipped";
# exits non-zero when anything failed.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

. scripts/lib.sh
need gcc gcc g++ g++ make make cmake cmake pkg-config pkg-config perl perl mcs mono-mcs mono mono-runtime nm binutils

OUT="$ROOT/target/samples"
rm -rf "$OUT"
mkdir -p "$OUT"
. scripts/checks.sh
skipped=0
skip() {
  skipped=$((skipped + 1))
  echo "SKIPPED - $1: $2"
}
summary() { echo "samples: $passed passed, $failed failed, $skipped skipped"; }
# expect NAME FILE EXTENDED-REGEX: the file has a line matching.
expect() {
  if grep -Eq -- "$3" "$2"; then ok "$1"; else not_ok "$1 (no line matching /$3/)" "$2"; fi
}
# tap NAME LOG RC: counts "ok - " / "not ok - " / "SKIPPED - " lines of a test program, and its
# exit code.
tap() {
  local name=$1 log=$2 rc=$3 n
  n=$(grep -c '^ok - ' "$log" || true)
  passed=$((passed + n))
  grep '^ok - ' "$log" | sed "s/^ok - /ok - $name: /"
  while IFS= read -r line; do
    failed=$((failed + 1))
    echo "not ok - $name: ${line#not ok - }"
  done < <(grep '^not ok - ' "$log" || true)
  while IFS= read -r line; do
    skip "$name: ${line#SKIPPED - }" "see above"
  done < <(grep '^SKIPPED - ' "$log" || true)
  if [ "$rc" -ne 0 ]; then not_ok "$name exits 0 (exit $rc)" "$log"; fi
}

echo "# cargo build"
if ! cargo build --quiet -p gsms -p gsms-emulator 2>"$OUT/cargo.log"; then
  cat "$OUT/cargo.log"
  failed=1
  summary
  exit 1
fi
LIB="$ROOT/target/debug"
export LD_LIBRARY_PATH="$LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# --- build everything first (so runs start right after a server is taken) ---
echo "# build"
export PKG_CONFIG_PATH="$ROOT/pkgconfig"
PC="pkg-config --define-variable=profile=debug"
check "pkgconfig/gsms.pc version matches Cargo.toml" \
  test "$($PC --modversion gsms)" = "$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -1)"
# shellcheck disable=SC2046
check "C sample builds with gcc -std=c99 -pedantic via pkg-config" \
  gcc -std=c99 -Wall -Wextra -Werror -pedantic samples/c/allocate.c $($PC --cflags --libs gsms) -o "$OUT/allocate_c"
# shellcheck disable=SC2046
check "C full-flow sample builds with gcc -std=c99 -pedantic via pkg-config" \
  gcc -std=c99 -Wall -Wextra -Werror -pedantic samples/c/full_flow.c $($PC --cflags --libs gsms) -o "$OUT/full_flow_c"
check "C sample links statically (libgsms.a)" sh -c \
  "gcc -std=c99 -Wall -Wextra -Werror samples/c/allocate.c $($PC --cflags gsms) '$($PC --variable=libdir gsms)/libgsms.a' -lpthread -ldl -lm -o '$OUT/allocate_c_static' && readelf -d '$OUT/allocate_c_static' >'$OUT/static-c.dyn' && ! grep -q libgsms '$OUT/static-c.dyn'"
check "C++ sample configures and builds with CMake (find_package(gsms), gsms::gsms)" sh -c \
  "cmake -S samples/cpp -B '$OUT/cpp' -DCMAKE_PREFIX_PATH='$ROOT/cmake' -DGSMS_PROFILE=debug -DCMAKE_BUILD_TYPE=Debug && cmake --build '$OUT/cpp' -j2"
check "C++ sample builds against the static library (GSMS_USE_STATIC_LIBS=ON)" sh -c \
  "cmake -S samples/cpp -B '$OUT/cpp-static' -DCMAKE_PREFIX_PATH='$ROOT/cmake' -DGSMS_PROFILE=debug -DGSMS_USE_STATIC_LIBS=ON && cmake --build '$OUT/cpp-static' -j2 && readelf -d '$OUT/cpp-static/allocate_async' >'$OUT/static-cpp.dyn' && ! grep -q libgsms '$OUT/static-cpp.dyn'"
check "gsms.hpp tests build (-fno-exceptions -fno-rtti, AddressSanitizer)" \
  g++ -std=c++17 -fno-exceptions -fno-rtti -Wall -Wextra -Werror -g -fsanitize=address,undefined -fno-sanitize-recover=all \
  -Iinclude -Ibindings/cpp bindings/cpp/tests/gsms_hpp_test.cpp -L"$LIB" -Wl,-rpath,"$LIB" -lgsms -lpthread -o "$OUT/gsms_hpp_test"
MCS="mcs -langversion:7 -warnaserror -nologo"
check "C# sample compiles with mcs" $MCS -out:"$OUT/allocate.exe" samples/csharp/Program.cs samples/csharp/SampleUtil.cs bindings/csharp/*.cs
check "C# full-flow sample compiles with mcs" $MCS -out:"$OUT/full_flow.exe" samples/csharp/FullFlow.cs samples/csharp/SampleUtil.cs bindings/csharp/*.cs
check "C# tests compile with mcs" $MCS -out:"$OUT/csharp_tests.exe" bindings/csharp/tests/GsmsTests.cs bindings/csharp/*.cs

# Unity: assemble the package as a user would (samples/unity, the C# layer from bindings/csharp,
# the native library, and the .meta files of what was added).
UPKG="$OUT/unity-package"
check "Unity package assembled (samples/stage_native_libs.sh unity)" bash samples/stage_native_libs.sh unity --profile debug --dest "$UPKG"
# every_meta DIR LOG: every file and folder outside ~ folders has a .meta; no .meta without its asset.
every_meta() {
  local f m
  : >"$2"
  while IFS= read -r f; do
    [ -f "$f.meta" ] || echo "no $f.meta" >>"$2"
  done < <(find "$1" -path '*~*' -prune -o \( -type f -o -type d \) ! -name '*.meta' ! -name '.*' ! -path "$1" -print)
  while IFS= read -r m; do
    [ -e "${m%.meta}" ] || echo "orphan $m" >>"$2"
  done < <(find "$1" -path '*~*' -prune -o -name '*.meta' -print)
  [ ! -s "$2" ]
}
check "Unity package in the repository: no .meta without its file (samples/unity)" every_meta samples/unity "$OUT/meta-repo.log"
check "Unity package assembled: every file and folder has a .meta, no orphan .meta" every_meta "$UPKG" "$OUT/meta.log"
check "Unity package.json version matches Cargo.toml" \
  grep -q "\"version\": \"$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -1)\"" samples/unity/package.json
UNITY_SRC=("$UPKG"/Runtime/*.cs "$UPKG/Samples~/AllocateDemo/GsmsAllocateDemo.cs" "samples/unity/Tests~/UnityEngineStubs.cs")
check "Unity C# compiles against stub UnityEngine (editor defines)" \
  $MCS -target:library -define:"UNITY_5_3_OR_NEWER;UNITY_2017_1_OR_NEWER;UNITY_EDITOR" -out:"$OUT/unity-editor.dll" "${UNITY_SRC[@]}"
check "Unity C# compiles for an iOS player (UNITY_IOS, no editor)" \
  $MCS -target:library -define:"UNITY_5_3_OR_NEWER;UNITY_2017_1_OR_NEWER;UNITY_IOS" -out:"$OUT/unity-ios.dll" "${UNITY_SRC[@]}"
check "Unity checks compile" $MCS -out:"$OUT/unity_checks.exe" "samples/unity/Tests~/UnityChecks.cs"
check "Unity iOS build imports \"__Internal\"; trampolines carry [MonoPInvokeCallback] of their own delegate type; no bool/string marshalling" \
  mono "$OUT/unity_checks.exe" "$OUT/unity-ios.dll" __Internal
# The reflection check must fail on a trampoline whose [MonoPInvokeCallback] names the wrong
# delegate type (IL2CPP would then marshal the call with the wrong signature).
mkdir -p "$OUT/unity-wrong"
sed 's/MonoPInvokeCallback(typeof(GsmsNative.ClusterCallback))/MonoPInvokeCallback(typeof(GsmsNative.ProgressCallback))/' \
  "$UPKG/Runtime/GsmsClient.cs" >"$OUT/unity-wrong/GsmsClient.cs"
WRONG_SRC=("$OUT/unity-wrong/GsmsClient.cs")
for f in "${UNITY_SRC[@]}"; do [ "$(basename "$f")" = GsmsClient.cs ] || WRONG_SRC+=("$f"); done
check "Unity check refuses a [MonoPInvokeCallback] naming the wrong delegate type" sh -c "
  ! cmp -s '$UPKG/Runtime/GsmsClient.cs' '$OUT/unity-wrong/GsmsClient.cs' &&
  $MCS -target:library -define:'UNITY_5_3_OR_NEWER;UNITY_2017_1_OR_NEWER;UNITY_EDITOR' -out:'$OUT/unity-wrong.dll' ${WRONG_SRC[*]} &&
  ! mono '$OUT/unity_checks.exe' '$OUT/unity-wrong.dll' gsms >'$OUT/unity-wrong.log' 2>&1 &&
  cat '$OUT/unity-wrong.log' && grep -q 'OnDone: \[MonoPInvokeCallback\] names ProgressCallback' '$OUT/unity-wrong.log'"

UE=samples/unreal
check "Unreal subsystem compiles against stub UE headers (-Wall -Wextra -Werror, ASan)" \
  g++ -std=c++17 -Wall -Wextra -Werror -g -fsanitize=address,undefined -fno-sanitize-recover=all \
  -I$UE/Tests/ue_stubs -I$UE/Gsms/Source/Gsms/Public -Iinclude \
  $UE/Tests/ue_driver.cpp $UE/Gsms/Source/Gsms/Private/GsmsSubsystem.cpp $UE/Gsms/Source/Gsms/Private/GsmsModule.cpp \
  -L"$LIB" -Wl,-rpath,"$LIB" -lgsms -o "$OUT/ue_driver"

# TCHAR is char in the stubs (so the driver can run); on Windows it is UTF-16. Compiled (not run)
# with a char16_t TCHAR, a string passed to gsms_* without TCHAR_TO_UTF8, or read from it without
# UTF8_TO_TCHAR, is a compile error; the second check proves that by dropping one conversion.
UE_WIDE="g++ -std=c++17 -Wall -Wextra -Werror -fsyntax-only -DGSMS_STUB_WIDE_TCHAR -I$UE/Tests/ue_stubs -I$UE/Gsms/Source/Gsms/Public -Iinclude"
check "Unreal subsystem compiles with a UTF-16 TCHAR (as on Windows), every string converted" \
  $UE_WIDE $UE/Gsms/Source/Gsms/Private/GsmsSubsystem.cpp $UE/Gsms/Source/Gsms/Private/GsmsModule.cpp
sed 's/gsms_config_set_base_url(Config, TCHAR_TO_UTF8(\*Url))/gsms_config_set_base_url(Config, *Url)/' \
  $UE/Gsms/Source/Gsms/Private/GsmsSubsystem.cpp >"$OUT/GsmsSubsystemNoConversion.cpp"
check "Unreal wide-TCHAR check refuses a string passed to gsms_* without TCHAR_TO_UTF8" sh -c "
  ! cmp -s $UE/Gsms/Source/Gsms/Private/GsmsSubsystem.cpp '$OUT/GsmsSubsystemNoConversion.cpp' &&
  ! $UE_WIDE -I$UE/Gsms/Source/Gsms/Private '$OUT/GsmsSubsystemNoConversion.cpp' 2>'$OUT/ue-wide.log' &&
  grep -q 'gsms_config_set_base_url' '$OUT/ue-wide.log'"

# Every gsms_ name the engine integrations use exists in gsms.h; P/Invoke arities match it.
: >"$OUT/names.log"
while IFS= read -r name; do
  grep -qw "$name" include/gsms.h || echo "$name" >>"$OUT/names.log"
done < <(grep -rhoE '\bgsms_[a-z0-9_]+' bindings/csharp samples/unity/Runtime "samples/unity/Samples~" $UE/Gsms --include='*.cs' --include='*.cpp' --include='*.h' | sort -u)
if [ ! -s "$OUT/names.log" ]; then ok "every gsms_ name in bindings/csharp, samples/unity, samples/unreal is in gsms.h"; else not_ok "names missing from gsms.h" "$OUT/names.log"; fi
perl -0777 -ne 's{/\*.*?\*/}{}gs; s{//[^\n]*}{}g;
  for my $st (split /;/) { next if $st =~ /\btypedef\b/; next unless $st =~ /\b(gsms_\w+)\s*\(([^()]*)\)\s*$/s;
    my ($n, $p) = ($1, $2); $p =~ s/^\s+|\s+$//g; print "$n ", ($p eq "void" || $p eq "") ? 0 : scalar(split /,/, $p), "\n"; }' \
  include/gsms.h | sort >"$OUT/c-arity"
perl -0777 -ne 'while (/static\s+extern\s+[\w\[\]]+\s+(gsms_\w+)\s*\(([^)]*)\)/g) { my ($n, $p) = ($1, $2); $p =~ s/^\s+|\s+$//g;
  print "$n ", $p eq "" ? 0 : scalar(split /,/, $p), "\n"; }' bindings/csharp/GsmsNative.cs | sort >"$OUT/cs-arity"
check "every P/Invoke in GsmsNative.cs matches a gsms.h function and its parameter count" \
  sh -c "join -v1 '$OUT/cs-arity' '$OUT/c-arity' >'$OUT/arity.log'; join '$OUT/cs-arity' '$OUT/c-arity' | awk '\$2 != \$3' >>'$OUT/arity.log'; cat '$OUT/arity.log'; test ! -s '$OUT/arity.log'"
check "GsmsNative.cs declares every gsms.h function" \
  sh -c "join -v2 '$OUT/cs-arity' '$OUT/c-arity'; test -z \"\$(join -v2 '$OUT/cs-arity' '$OUT/c-arity')\""
BUILDCS=$UE/Gsms/Source/ThirdParty/GsmsLibrary/GsmsLibrary.Build.cs
check "Unreal: stage_native_libs.sh puts gsms.h and the Linux library in the one folder GsmsLibrary.Build.cs links and stages from" sh -c "
  samples/stage_native_libs.sh unreal --profile debug --dest '$OUT/ue-stage' &&
  test -f '$OUT/ue-stage/Source/ThirdParty/GsmsLibrary/include/gsms.h' &&
  test -f '$OUT/ue-stage/Binaries/ThirdParty/GsmsLibrary/Linux/libgsms.so' &&
  grep -q 'Path.Combine(ModuleDirectory, \"include\")' $BUILDCS &&
  grep -q 'string Rel = \"Binaries/ThirdParty/GsmsLibrary/\" + Target.Platform.ToString();' $BUILDCS &&
  test \$(grep -c 'Path.Combine(PluginDirectory, Rel)' $BUILDCS) = 1 && test \$(grep -c '\"\$(PluginDir)/\" + Rel' $BUILDCS) = 1 &&
  ! grep -E 'Path.Combine\((LibDir|ModuleDirectory, \"lib)|\"lib\"' $BUILDCS &&
  grep -q 'PluginDir)/../../../Binaries/ThirdParty/GsmsLibrary/Android/arm64-v8a/libgsms.so' $UE/Gsms/Source/ThirdParty/GsmsLibrary/GsmsLibrary_APL.xml &&
  grep -q 'Binaries/ThirdParty/GsmsLibrary/Win64/gsms.dll' $UE/Gsms/Source/Gsms/Private/GsmsModule.cpp"
check "Unity: the assembled Linux plugin's import settings enable it for the Linux editor and Linux64 player" sh -c "
  test -f '$UPKG/Plugins/Linux/x86_64/libgsms.so' &&
  grep -A4 'Standalone: Linux64' '$UPKG/Plugins/Linux/x86_64/libgsms.so.meta' | grep -q 'enabled: 1' &&
  grep -A6 'Editor: Editor' '$UPKG/Plugins/Linux/x86_64/libgsms.so.meta' | grep -q 'OS: Linux'"

# --- the emulator ---
echo "# run against gsms-emulator"
launch_emulator FAST "${SAMPLES_EMULATOR_FLAGS[@]}"
GSMS_BASE_URL=$FAST_URL
if [ -z "$GSMS_BASE_URL" ]; then
  not_ok "the emulator starts" "$ROOT/target/FAST.log"
  summary
  exit 1
fi
ok "the emulator starts ($GSMS_BASE_URL)"
export GSMS_BASE_URL GSMS_TOKEN="XBL3.0 x=dev;dev-token"
# A second one that answers after 1.5 s, for requests still running when a client is freed.
launch_emulator SLOW --latency-ms 1500
if [ -n "$SLOW_URL" ]; then
  ok "the slow emulator starts ($SLOW_URL)"
  export GSMS_SLOW_BASE_URL=$SLOW_URL
else
  # The binding tests that need it then print SKIPPED (counted below), besides this failure.
  not_ok "the slow emulator starts" "$ROOT/target/SLOW.log"
fi

# Takes the only server of a title for the emulator's 2 s lifetime (the C sample, blocking).
occupy() { GSMS_TITLE_ID=$1 timeout 30 "$OUT/allocate_c" "holder-$1" >/dev/null 2>&1; }
# run NAME LOG CMD...: runs with a timeout; records the exit code in RC.
run() {
  local name=$1 log=$2
  shift 2
  timeout 60 "$@" >"$log" 2>&1
  RC=$?
  if [ $RC -eq 0 ]; then ok "$name exits 0"; else not_ok "$name exits 0 (exit $RC)" "$log"; fi
}

# C
run "C sample" "$OUT/c.log" env GSMS_TITLE_ID=101 "$OUT/allocate_c"
expect "C sample prints Fulfilled" "$OUT/c.log" '^Fulfilled'
expect "C sample prints where to connect (host:port)" "$OUT/c.log" 'GameData: connect to [^ ]+:[0-9]+'
run "C++ sample (static, no queue)" "$OUT/cpp-static.log" env GSMS_TITLE_ID=203 "$OUT/cpp-static/allocate_async"
expect "C++ sample (static) gets the UDP echo" "$OUT/cpp-static.log" '^UDP echo from [^ ]+:[0-9]+: hello$'
run "C sample (static)" "$OUT/c-static.log" env GSMS_TITLE_ID=102 "$OUT/allocate_c_static"
expect "C sample (static) prints where to connect" "$OUT/c-static.log" 'GameData: connect to [^ ]+:[0-9]+'

# The whole flow (QoS servers -> measurement -> variants -> inline cluster -> ticket -> UDP echo),
# against an emulator with two regions whose beacons answer after 5 and 25 ms.
launch_emulator FLOW --udp-echo --region West:delay=5 --region East:delay=25
run "C full-flow sample" "$OUT/full-flow-c.log" env GSMS_BASE_URL="$FLOW_URL" "$OUT/full_flow_c"
expect "C full-flow sample measures both regions" "$OUT/full-flow-c.log" '^QoS East +[0-9.]+ ms \(5/5 replies\)$'
expect "C full-flow sample picks the nearest region from the measurement" "$OUT/full-flow-c.log" '^Best region: West$'
expect "C full-flow sample picks a variant and a GSI set" "$OUT/full-flow-c.log" '^Variant: .+; GSI set: .+'
expect "C full-flow sample follows the ticket to Active in that region" "$OUT/full-flow-c.log" '^Ticket ticket-[0-9-]+ Active after [0-9]+ request\(s\): [^ ]+ in West$'
expect "C full-flow sample gets the UDP echo" "$OUT/full-flow-c.log" '^UDP echo from [^ ]+:[0-9]+: hello$'

# The same flow from C++ (gsms.hpp, async calls in a dispatch loop) and C# (Task-based calls in a
# Dispatch loop); each on its own title, so each has a free server (2 per title).
for lang in cpp csharp; do
  case $lang in
    cpp) name="C++"; title=702; cmd=("$OUT/cpp/full_flow") ;;
    csharp) name="C#"; title=703; cmd=(mono "$OUT/full_flow.exe") ;;
  esac
  log="$OUT/full-flow-$lang.log"
  run "$name full-flow sample" "$log" env GSMS_BASE_URL="$FLOW_URL" GSMS_TITLE_ID=$title "${cmd[@]}"
  expect "$name full-flow sample measures both regions" "$log" '^QoS West +[0-9.]+ ms \(5/5 replies\)$'
  expect "$name full-flow sample measures the far region too" "$log" '^QoS East +[0-9.]+ ms \(5/5 replies\)$'
  expect "$name full-flow sample picks the nearest region from the measurement" "$log" '^Best region: West$'
  expect "$name full-flow sample picks a variant and a GSI set" "$log" '^Variant: .+ \([^)]+\); GSI set: .+ \([^)]+\)$'
  expect "$name full-flow sample reads the ticket Active in that region" "$log" '^Ticket ticket-[0-9-]+ Active after [0-9]+ request\(s\): [^ ]+ in West$'
  expect "$name full-flow sample prints the GameData port" "$log" '^GameData: [^ ]+:[0-9]+ \(server port [0-9]+\)$'
  expect "$name full-flow sample gets the UDP echo" "$log" '^UDP echo from [^ ]+:[0-9]+: hello$'
done

# C++
occupy 201
run "C++ sample" "$OUT/cpp.log" env GSMS_TITLE_ID=201 "$OUT/cpp/allocate_async"
expect "C++ sample shows Queued progress" "$OUT/cpp.log" '^Queued: '
expect "C++ sample prints Fulfilled host:port" "$OUT/cpp.log" '^Fulfilled: [^ ]+:[0-9]+'
expect "C++ sample gets the UDP echo" "$OUT/cpp.log" '^UDP echo from [^ ]+:[0-9]+: hello$'

occupy 202
GSMS_TITLE_ID=202 timeout 30 "$OUT/cpp/allocate_async" >"$OUT/cpp-sigint.log" 2>&1 &
SAMPLE_PID=$!
for _ in $(seq 1 250); do grep -qs '^Queued' "$OUT/cpp-sigint.log" && break; sleep 0.02; done
kill -INT $SAMPLE_PID 2>/dev/null
wait $SAMPLE_PID
RC=$?
if [ $RC -eq 130 ] && grep -q '^Cancelled: GSMS_ERR_CANCELLED' "$OUT/cpp-sigint.log"; then
  ok "C++ sample: Ctrl-C while Queued cancels the allocation (exit 130)"
else
  not_ok "C++ sample: Ctrl-C while Queued cancels the allocation (exit $RC)" "$OUT/cpp-sigint.log"
fi

timeout 90 "$OUT/gsms_hpp_test" >"$OUT/cpp-tests.log" 2>&1
tap "gsms.hpp tests" "$OUT/cpp-tests.log" $?

# C#
occupy 301
run "C# sample" "$OUT/csharp.log" env GSMS_TITLE_ID=301 mono "$OUT/allocate.exe"
expect "C# sample shows Queued progress" "$OUT/csharp.log" '^Queued: '
expect "C# sample prints Fulfilled host:port" "$OUT/csharp.log" '^Fulfilled: [^ ]+:[0-9]+'
expect "C# sample gets the UDP echo" "$OUT/csharp.log" '^UDP echo from [^ ]+:[0-9]+: hello$'

timeout 90 mono "$OUT/csharp_tests.exe" >"$OUT/csharp-tests.log" 2>&1
tap "C# tests" "$OUT/csharp-tests.log" $?

# Unity (GsmsAllocateDemo driven as the editor would; title 401 busy, 402 for the polling path)
occupy 401
run "Unity demo (callbacks, then callback-free)" "$OUT/unity.log" mono "$OUT/unity_checks.exe" "$OUT/unity-editor.dll" gsms "$GSMS_BASE_URL" 401
expect "Unity demo shows Queued progress in its UI" "$OUT/unity.log" '^unity demo \(callbacks\): Queued: '
expect "Unity demo reaches Fulfilled" "$OUT/unity.log" '^unity demo \(callbacks\): Fulfilled: connect to [^ ]+:[0-9]+'
expect "Unity demo (callback-free) reaches Fulfilled" "$OUT/unity.log" '^unity demo \(callback-free\): Fulfilled: connect to'
expect "Unity demo frees its client on leaving play mode" "$OUT/unity.log" 'client freed on leaving play mode: True'

# Unreal (the subsystem against stub UE headers, under AddressSanitizer)
occupy 501
run "Unreal subsystem driver" "$OUT/unreal.log" "$OUT/ue_driver" 501
expect "Unreal subsystem broadcasts Queued progress" "$OUT/unreal.log" '^unreal: request 1 Queued'
expect "Unreal subsystem broadcasts Fulfilled" "$OUT/unreal.log" '^unreal: request 1 Fulfilled: [^ ]+:[0-9]+'
expect "Unreal subsystem: Deinitialize with an allocation in flight broadcasts nothing" "$OUT/unreal.log" \
  '^unreal: deinitialized with an allocation in flight: 0 events after it$'

# Install into a prefix, then use it from CMake and pkg-config.
PREFIX="$OUT/prefix"
check "cmake -P cmake/gsmsInstall.cmake installs into a prefix" \
  cmake -DGSMS_PREFIX="$PREFIX" -DGSMS_PROFILE=debug -P cmake/gsmsInstall.cmake
check "C++ sample builds against the installed prefix (CMAKE_PREFIX_PATH=<prefix>)" sh -c \
  "cmake -S samples/cpp -B '$OUT/cpp-installed' -DCMAKE_PREFIX_PATH='$PREFIX' && cmake --build '$OUT/cpp-installed' -j2 && grep -q '$PREFIX' '$OUT/cpp-installed/CMakeCache.txt'"
check "C sample builds with the installed gsms.pc" sh -c \
  "gcc -std=c99 -Wall -Wextra -Werror samples/c/allocate.c \$(PKG_CONFIG_PATH='$PREFIX/lib/pkgconfig' pkg-config --cflags --libs gsms) -Wl,-rpath,'$PREFIX/lib' -o '$OUT/allocate_installed'"
run "C sample linked from the installed prefix" "$OUT/installed.log" env GSMS_TITLE_ID=601 LD_LIBRARY_PATH= "$OUT/allocate_installed"
expect "C sample linked from the installed prefix prints Fulfilled" "$OUT/installed.log" '^Fulfilled'

summary
[ "$failed" -eq 0 ]

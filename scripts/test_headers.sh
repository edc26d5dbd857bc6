#!/usr/bin/env bash
# Header tests: include/gsms.h compiled on its own and included twice in one unit, as C (C99, C11)
# and C++ (C++11, C++17), all warnings as errors; bindings/cpp/gsms.hpp on its own, twice, and
# with every template instantiated, under -fno-exceptions -fno-rtti; and the header's functions
# matched one to one against the symbols libgsms exports.
#
#   scripts/test_headers.sh          (builds target/debug with cargo when the library is missing)
#
# Last line: "headers: N passed, M failed, 0 skipped"; exits non-zero when anything failed.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

. scripts/lib.sh
need gcc gcc g++ g++ perl perl nm binutils

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0

# check NAME COMMAND...: runs the command, prints ok/not ok (with its output on failure).
check() {
  local name=$1
  shift
  if "$@" >"$TMP/out" 2>&1; then
    passed=$((passed + 1))
    echo "ok - $name"
  else
    failed=$((failed + 1))
    echo "not ok - $name"
    sed 's/^/    /' "$TMP/out" | head -40
  fi
}

CWARN="-Wall -Wextra -Werror -pedantic -Wundef -Wstrict-prototypes -Wmissing-prototypes -Wshadow"
CXXWARN="-Wall -Wextra -Werror -pedantic -Wundef -Wshadow -Wconversion -Wsign-conversion -Wold-style-cast -Wnon-virtual-dtor"
HPP="-fno-exceptions -fno-rtti"
INC="-I$ROOT/include -I$ROOT/bindings/cpp"

printf '#include "gsms.h"\n' >"$TMP/once.c"
printf '#include "gsms.h"\n#include "gsms.h"\nint gsms_header_twice(void);\nint gsms_header_twice(void) { return (GSMS_OK == 0 && GSMS_ABI_MAJOR >= 1) ? 0 : 1; }\n' >"$TMP/twice.c"
cp "$TMP/once.c" "$TMP/once.cpp"
cp "$TMP/twice.c" "$TMP/twice.cpp"
printf '#include "gsms.hpp"\n' >"$TMP/hpp_once.cpp"
printf '#include "gsms.hpp"\n#include "gsms.hpp"\n#include "gsms.h"\nint main() { return gsms::abi_compatible() ? 0 : 1; }\n' >"$TMP/hpp_twice.cpp"

for std in c99 c11; do
  check "gsms.h alone as $std" gcc -std=$std $CWARN $INC -c "$TMP/once.c" -o "$TMP/o.o"
  check "gsms.h twice in one unit as $std" gcc -std=$std $CWARN $INC -c "$TMP/twice.c" -o "$TMP/o.o"
done
for std in c++11 c++17; do
  check "gsms.h alone as $std" g++ -std=$std $CXXWARN $INC -c "$TMP/once.cpp" -o "$TMP/o.o"
  check "gsms.h twice in one unit as $std" g++ -std=$std $CXXWARN $INC -c "$TMP/twice.cpp" -o "$TMP/o.o"
done
check "gsms.hpp alone (c++17 $HPP)" g++ -std=c++17 $HPP $CXXWARN $INC -c "$TMP/hpp_once.cpp" -o "$TMP/o.o"
check "gsms.hpp twice in one unit (c++17 $HPP)" g++ -std=c++17 $HPP $CXXWARN $INC -c "$TMP/hpp_twice.cpp" -o "$TMP/o.o"
# The tests use every template of gsms.hpp: compiling them instantiates all of it.
check "gsms.hpp fully instantiated (c++17 $HPP)" \
  g++ -std=c++17 $HPP $CXXWARN $INC -fsyntax-only bindings/cpp/tests/gsms_hpp_test.cpp
check "gsms.hpp fully instantiated (c++20 $HPP)" \
  g++ -std=c++20 $HPP $CXXWARN $INC -fsyntax-only bindings/cpp/tests/gsms_hpp_test.cpp
check "gsms.hpp rejects C++14 with a clear message" \
  sh -c "! g++ -std=c++14 $INC -fsyntax-only '$TMP/hpp_once.cpp' >'$TMP/cxx14' 2>&1 && grep -q 'gsms.hpp needs C++17' '$TMP/cxx14'"

# Functions declared in gsms.h (name and parameter count), parsed with perl.
perl -0777 -ne '
  s{/\*.*?\*/}{}gs; s{//[^\n]*}{}g;
  for my $st (split /;/) {
    next if $st =~ /\btypedef\b/;
    next unless $st =~ /\b(gsms_\w+)\s*\(([^()]*)\)\s*$/s;
    my ($n, $p) = ($1, $2); $p =~ s/^\s+|\s+$//g;
    my $c = ($p eq "void" || $p eq "") ? 0 : scalar(split /,/, $p);
    print "$n $c\n";
  }' include/gsms.h | sort >"$TMP/declared"
check "gsms.h declares functions" test -s "$TMP/declared"

if [ ! -f target/debug/libgsms.so ] || [ ! -f target/debug/libgsms.a ]; then
  ensure cargo cargo
  cargo build --quiet --lib
fi
nm -D --defined-only target/debug/libgsms.so | awk '$2 == "T" && $3 ~ /^gsms_/ { print $3 }' | sort >"$TMP/exported"
cut -d' ' -f1 "$TMP/declared" >"$TMP/declared_names"
check "every exported gsms_ symbol is declared in gsms.h (and every declared one exported)" \
  diff -u --label exported-by-libgsms.so --label declared-in-gsms.h "$TMP/exported" "$TMP/declared_names"

# Link a C99 unit that takes the address of every declared function, against the .so and the .a.
{
  echo '#include "gsms.h"'
  echo '#include <stdio.h>'
  echo 'typedef void (*fp)(void);'
  echo 'int main(void) {'
  echo '  volatile fp all[] = {'
  sed 's/^\([a-z_0-9]*\) .*/    (fp)\1,/' "$TMP/declared"
  echo '  };'
  echo '  printf("%u functions, ABI %u.%u\n", (unsigned)(sizeof all / sizeof all[0]), (unsigned)(gsms_abi_version() >> 16), (unsigned)(gsms_abi_version() & 0xFFFF));'
  echo '  return gsms_abi_version() >> 16 == GSMS_ABI_MAJOR ? 0 : 1;'
  echo '}'
} >"$TMP/link.c"
# (Casting function pointers to another function type is fine in C99; -pedantic stays on.)
check "every declared function links against libgsms.so and runs" sh -c \
  "gcc -std=c99 -Wall -Wextra -Werror $INC '$TMP/link.c' -Ltarget/debug -Wl,-rpath,'$ROOT/target/debug' -lgsms -o '$TMP/link_so' && '$TMP/link_so'"
check "every declared function links against libgsms.a" sh -c \
  "gcc -std=c99 -Wall -Wextra -Werror $INC '$TMP/link.c' target/debug/libgsms.a -lpthread -ldl -lm -o '$TMP/link_a' && '$TMP/link_a'"

echo "headers: $passed passed, $failed failed, 0 skipped"
[ "$failed" -eq 0 ]

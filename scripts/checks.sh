# Check counting for the suites that print "ok - " / "not ok - " lines (scripts/test_samples.sh,
# scripts/test_platforms.sh, scripts/test_package.sh). Source it after setting OUT, the
# directory for logs; the suite prints "NAME: $passed passed, $failed failed" at the end.
passed=0
failed=0

ok() {
  passed=$((passed + 1))
  echo "ok - $1"
}
# not_ok NAME [LOG]: a failure, with the end of its log.
not_ok() {
  failed=$((failed + 1))
  echo "not ok - $1"
  [ -f "${2:-}" ] && sed 's/^/    /' "$2" | tail -40
  return 0
}
# check NAME COMMAND...: runs the command (output to a log shown on failure).
check() {
  local name=$1 log="$OUT/check.log"
  shift
  if "$@" >"$log" 2>&1; then ok "$name"; else not_ok "$name" "$log"; fi
}

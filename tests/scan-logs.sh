#!/usr/bin/env bash
# Run by `make test` after the tests: searches every log the run wrote for every secret the
# tests used (tests/integration/logs.rs records both). Any hit fails the build.
set -euo pipefail
dir="${1:-target/tmp/test-logs}"
canary="deskprov-log-canary-5f1e"
shopt -s nullglob
logs=("$dir"/*.log)
secret_files=("$dir"/secrets-*.txt)
if [ ${#logs[@]} -eq 0 ] || [ ${#secret_files[@]} -eq 0 ]; then
  echo "scan-logs: no logs or no recorded secrets in $dir; did the integration tests run?" >&2
  exit 1
fi
secrets=$(mktemp)
trap 'rm -f "$secrets"' EXIT
sort -u "${secret_files[@]}" >"$secrets"
# The canary proves the in-process logs were written where this script looks.
if ! grep -q -F "$canary" "${logs[@]}"; then
  echo "scan-logs: the canary is missing from the logs; the search would prove nothing" >&2
  exit 1
fi
lines=$(cat "${logs[@]}" | wc -l)
# Whole words only, so a 6-digit PIN does not match inside a longer number; grep's status 2
# (an error) must fail the scan, not pass it.
status=0
hits=$(grep -F -w -o -h -f "$secrets" "${logs[@]}") || status=$?
if [ "$status" -eq 0 ]; then
  echo "scan-logs: secrets found in the logs of the test run:" >&2
  echo "$hits" | sort | uniq -c >&2
  exit 1
elif [ "$status" -ne 1 ]; then
  echo "scan-logs: grep failed (status $status)" >&2
  exit 1
fi
echo "scan-logs: $(wc -l <"$secrets") secrets, none in ${#logs[@]} logs ($lines lines)"

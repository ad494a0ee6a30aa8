#!/usr/bin/env bash
# Runs every test of the repository: the xunit projects (unit, integration against the real guard, and
# the short LeakLab incident), the conformance suite with real attack tools, the Prometheus scrape check
# and the offline validation of the deployment files. Prints one summary line "N passed, N failed" and
# exits non-zero when anything failed.
#
# The suites install the Debian and npm packages they need when missing (run as root), and bind only to
# 127.0.0.1. A full run takes about 10 minutes on 2 cores.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
log_dir="$root/artifacts/test-logs"
mkdir -p "$log_dir"

passed=0
failed=0

# Adds the counts of the "Passed: N" and "Failed: N" summary lines that dotnet test prints per test project.
count_dotnet() {
    local p f
    p=$(grep -E '^ +Passed: +[0-9]+$' "$1" | awk '{ sum += $2 } END { print sum + 0 }')
    f=$(grep -E '^ +Failed: +[0-9]+$' "$1" | awk '{ sum += $2 } END { print sum + 0 }')
    passed=$((passed + p))
    failed=$((failed + f))
}

# Counts one suite script as one passed or failed check.
run_suite() {
    local name=$1
    shift
    echo "== $name"
    if "$@" 2>&1 | tee "$log_dir/$name.log"; then
        passed=$((passed + 1))
    else
        echo "== $name FAILED (log: $log_dir/$name.log)"
        failed=$((failed + 1))
    fi
}

# One project at a time: the LeakLab test floods the machine, and the guard's timing tests must not share
# the two cores with it.
for project in tests/ConnLeakGuard.Tests tests/ConnLeakGuard.LeakLab.Tests; do
    name=$(basename "$project")
    echo "== dotnet test $name"
    dotnet build "$project" -c Debug 2>&1 | tail -2
    dotnet test "$project" -c Debug --no-build --logger "console;verbosity=normal" > "$log_dir/$name.log" 2>&1
    grep -E '^\s+(Passed|Failed) |^Total tests: |^ +(Passed|Failed): ' "$log_dir/$name.log"
    if grep -qE '^Total tests: ' "$log_dir/$name.log"; then
        count_dotnet "$log_dir/$name.log"
    else
        echo "== dotnet test $name produced no summary (log: $log_dir/$name.log)"
        failed=$((failed + 1))
    fi
done

run_suite conformance bash tests/conformance/run.sh
run_suite prometheus bash tests/prometheus/run.sh
run_suite deploy bash deploy/validate.sh

# CI shows only the end of this output, so the failed tests and their first lines of error come last,
# followed by the failed checks of the suites.
for log in "$log_dir"/ConnLeakGuard*.log; do
    awk '/^  (Passed|Skipped) / { show = 0 } /^  Failed / { show = 1; n = 0 } show && n++ < 25' "$log"
done
for suite in conformance prometheus deploy; do
    grep -E '^ *FAIL[: ]' "$log_dir/$suite.log" 2>/dev/null | sed "s/^ */$suite: /"
done

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

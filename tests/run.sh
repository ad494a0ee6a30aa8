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

# Adds the counts from one "Passed!/Failed! - Failed: F, Passed: P" line of dotnet test per test project.
count_dotnet() {
    while read -r line; do
        local f p
        f=$(sed -E 's/.*Failed: *([0-9]+).*/\1/' <<<"$line")
        p=$(sed -E 's/.*Passed: *([0-9]+).*/\1/' <<<"$line")
        passed=$((passed + p))
        failed=$((failed + f))
    done < <(grep -E '^(Passed|Failed)! +- Failed: ' "$1")
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

echo "== dotnet test"
dotnet build ConnLeakGuard.sln -c Debug 2>&1 | tail -3
dotnet test ConnLeakGuard.sln -c Debug --no-build --logger "console;verbosity=normal" 2>&1 | tee "$log_dir/dotnet-test.log" | grep -E '^\s+(Passed|Failed) |^(Passed|Failed)!'
count_dotnet "$log_dir/dotnet-test.log"
if ! grep -qE '^(Passed|Failed)! +- Failed: ' "$log_dir/dotnet-test.log"; then
    echo "== dotnet test produced no result line"
    failed=$((failed + 1))
fi

run_suite conformance bash tests/conformance/run.sh
run_suite prometheus bash tests/prometheus/run.sh
run_suite deploy bash deploy/validate.sh

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

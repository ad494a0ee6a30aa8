"""Benchmark ConnLeakGuard side by side with nginx, HAProxy and plain YARP, all on 127.0.0.1.

Run it through tests/benchmarks/run.sh, which installs the tools, builds the two .NET programs and raises the
open-files limit. Modes:

  compare   Throughput and latency with keep-alive and with a new connection per request, proxies in
            round-robin over --rounds rounds (medians reported); then, once per proxy, resident memory at
            rest, per idle keep-alive connection, and during a slowloris attack.
  variants  The guard alone under runtime variants (GC mode, JIT, thread pool, sockets, logging), each set
            with environment variables or command-line overrides only.
  smoke     A short compare run to check that the harness works (seconds, not minutes).

Every server listens on 127.0.0.1 in the port range 25000-25999, every load generator targets it, and every
process that this script starts is stopped by its PID before it exits. Results go to artifacts/bench/ as JSON
and, unless --no-docs is given, are appended to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import http.client
import json
import os
import platform
import re
import resource
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[2]
BENCH_DIR = Path(__file__).resolve().parent
ARTIFACTS = REPO / "artifacts" / "bench"
DOCS_FILE = REPO / "docs" / "benchmarks.md"
GUARD_DLL = ARTIFACTS / "guard" / "ConnLeakGuard.dll"
PLAIN_YARP_DLL = ARTIFACTS / "plain-yarp" / "PlainYarp.dll"

HOST = "127.0.0.1"
BACKEND_PORT = 25000
NGINX_PORT = 25010
HAPROXY_PORT = 25020
PLAIN_YARP_PORT = 25030
GUARD_PORT = 25040
GUARD_ADMIN_PORT = 25041

# The guard accepts 1,000 connections per client IP by default. Every client here connects from 127.0.0.1,
# so the memory tests raise that cap (and only those tests) to let one client stand for many.
GUARD_MEMORY_TEST_ARGS = ["--ConnLeakGuard:Inbound:MaxConnectionsPerClientIp=20000"]
# The guard's global cap of 10,000 equals the slowloris connection count, which would leave no slot for the
# wrk connections that measure throughput during the attack. The slowloris test raises it to 20,000.
GUARD_SLOWLORIS_TEST_ARGS = GUARD_MEMORY_TEST_ARGS + ["--ConnLeakGuard:Inbound:MaxConcurrentConnections=20000"]


def open_files_limit() -> int:
    """The soft open-files limit that the servers inherit (run.sh raises it as far as it may)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft if soft != resource.RLIM_INFINITY else 65536


def haproxy_maxconn() -> int:
    """HAProxy reserves two descriptors per connection and refuses to start when the open-files limit is lower."""
    return (open_files_limit() - 100) // 2


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ---------------------------------------------------------------------------------------------------------
# Processes


class ProcessSet:
    """Every process this script starts, so that each one is stopped by its PID, also on errors and Ctrl-C."""

    def __init__(self) -> None:
        self.processes: list[subprocess.Popen] = []

    def start(self, command: list[str], log_file: Path, env: dict[str, str] | None = None,
              stdout_to_log: bool = True, stdin: int | None = subprocess.DEVNULL) -> subprocess.Popen:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        log_handle = open(log_file, "ab")
        log_handle.write(f"$ {shlex.join(command)}\n".encode())
        log_handle.flush()
        full_env = dict(os.environ)
        full_env.update(env or {})
        process = subprocess.Popen(
            command,
            stdin=stdin,
            stdout=log_handle if stdout_to_log else subprocess.DEVNULL,
            stderr=log_handle,
            env=full_env,
        )
        self.processes.append(process)
        return process

    def stop(self, process: subprocess.Popen, timeout: float = 10.0) -> None:
        """Send SIGTERM to the process (by PID), then SIGKILL if it is still running after the timeout."""
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        if process in self.processes:
            self.processes.remove(process)

    def stop_all(self) -> None:
        for process in list(reversed(self.processes)):
            self.stop(process)


def resident_kib(pid: int) -> int:
    """VmRSS of the process and of its direct children (nginx's workers), in KiB."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(child) for child in children]
    except OSError:
        pass
    for one in pids:
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


class RssSampler:
    """Samples the resident memory of one process tree every 250 ms on a background thread."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(resident_kib(self.pid))
            self._stop.wait(0.25)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def max_kib(self) -> int:
        return max(self.samples) if self.samples else 0


def wait_until_ok(port: int, timeout: float, process: subprocess.Popen) -> float:
    """Poll GET / on the port until it returns 200; return the seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"process {process.args[0]} exited with code {process.returncode} before it was ready")
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=2)
            connection.request("GET", "/")
            status = connection.getresponse().status
            connection.close()
            if status == 200:
                return time.monotonic() - start
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"no 200 from 127.0.0.1:{port} within {timeout:.0f} s")


# ---------------------------------------------------------------------------------------------------------
# Servers


def write_nginx_backend(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "nginx.conf"
    config.write_text(textwrap.dedent(f"""\
        # Backend: a fixed 3-byte body. Large keepalive_requests, so the backend never closes a proxy's
        # upstream connection during a run.
        worker_processes 1;
        worker_rlimit_nofile {open_files_limit()};
        pid {directory}/nginx.pid;
        error_log {directory}/error.log warn;
        events {{ worker_connections 16384; }}
        http {{
            access_log off;
            client_body_temp_path {directory}/body;
            proxy_temp_path {directory}/proxy;
            keepalive_timeout 75s;
            keepalive_requests 1000000;
            server {{
                listen {HOST}:{BACKEND_PORT} backlog=4096;
                default_type text/plain;
                location / {{ return 200 "ok\\n"; }}
            }}
        }}
        """))
    return config


def write_nginx_proxy(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "nginx.conf"
    config.write_text(textwrap.dedent(f"""\
        # Proxy: one worker, upstream keep-alive, timeouts matching the guard's defaults.
        worker_processes 1;
        worker_rlimit_nofile {open_files_limit()};
        pid {directory}/nginx.pid;
        error_log {directory}/error.log warn;
        events {{ worker_connections {open_files_limit() - 100}; }}
        http {{
            access_log off;
            client_body_temp_path {directory}/body;
            proxy_temp_path {directory}/proxy;
            client_header_timeout 10s;
            client_body_timeout 60s;
            send_timeout 60s;
            keepalive_timeout 75s;
            keepalive_requests 1000;
            upstream app {{
                server {HOST}:{BACKEND_PORT};
                keepalive 64;
                keepalive_timeout 4s;
            }}
            server {{
                listen {HOST}:{NGINX_PORT} backlog=4096;
                location / {{
                    proxy_pass http://app;
                    proxy_http_version 1.1;
                    proxy_set_header Connection "";
                    proxy_connect_timeout 5s;
                    proxy_send_timeout 60s;
                    proxy_read_timeout 60s;
                }}
            }}
        }}
        """))
    return config


def write_haproxy(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "haproxy.cfg"
    config.write_text(textwrap.dedent(f"""\
        # Proxy: one thread, upstream connection reuse, timeouts matching the guard's defaults.
        global
            nbthread 1
            maxconn {haproxy_maxconn()}

        defaults
            mode http
            option http-keep-alive
            http-reuse always
            timeout connect 5s
            timeout http-request 10s
            timeout http-keep-alive 75s
            timeout client 75s
            timeout server 60s

        frontend proxy
            bind {HOST}:{HAPROXY_PORT} backlog 4096
            default_backend app

        backend app
            server app {HOST}:{BACKEND_PORT}
        """))
    return config


@dataclasses.dataclass
class Target:
    """One server under test: how to start it and which port it serves."""

    name: str
    port: int
    command: Callable[[list[str]], list[str]]
    env: dict[str, str] = dataclasses.field(default_factory=dict)
    stdout_to_log: bool = True


def make_targets(run_dir: Path) -> dict[str, Target]:
    nginx_config = write_nginx_proxy(run_dir / "nginx-proxy")
    haproxy_config = write_haproxy(run_dir / "haproxy")
    return {
        "nginx": Target(
            "nginx", NGINX_PORT,
            lambda extra: ["nginx", "-p", str(nginx_config.parent), "-c", str(nginx_config), "-g", "daemon off;"]),
        "haproxy": Target(
            "haproxy", HAPROXY_PORT,
            lambda extra: ["haproxy", "-db", "-f", str(haproxy_config)]),
        "plain-yarp": Target(
            "plain-yarp", PLAIN_YARP_PORT,
            lambda extra: ["dotnet", str(PLAIN_YARP_DLL),
                           f"--urls=http://{HOST}:{PLAIN_YARP_PORT}",
                           f"--ReverseProxy:Clusters:app:Destinations:app:Address=http://{HOST}:{BACKEND_PORT}"] + extra,
            stdout_to_log=False),
        "guard": Target(
            "guard", GUARD_PORT,
            lambda extra: ["dotnet", str(GUARD_DLL),
                           "--listen", f"http://{HOST}:{GUARD_PORT}",
                           "--upstream", f"http://{HOST}:{BACKEND_PORT}",
                           f"--ConnLeakGuard:Admin:Urls=http://{HOST}:{GUARD_ADMIN_PORT}"] + extra,
            # One JSON line per request: written to /dev/null so that no log file fills the disk.
            stdout_to_log=False),
    }


# ---------------------------------------------------------------------------------------------------------
# Load generators


@dataclasses.dataclass
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    non_2xx: int


def parse_duration_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"unknown wrk duration {text!r}")
    value, unit = float(match.group(1)), match.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


# The 1-minute load average at the start of each wrk run, to show how busy the shared machine was.
LOAD_SAMPLES: list[float] = []


def run_wrk(port: int, seconds: int, connection_close: bool, log_file: Path, connections: int = 64) -> WrkResult:
    LOAD_SAMPLES.append(load_average())
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    if connection_close:
        command += ["-H", "Connection: close"]
    command.append(f"http://{HOST}:{port}/")
    completed = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30, check=False)
    with open(log_file, "a") as handle:
        handle.write(f"$ {shlex.join(command)}\n{completed.stdout}{completed.stderr}\n")
    output = completed.stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    if not (rps and p50 and p99):
        raise RuntimeError(f"wrk output not understood (see {log_file}):\n{output}{completed.stderr}")
    errors = 0
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket_errors:
        errors = sum(int(value) for value in socket_errors.groups())
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return WrkResult(float(rps.group(1)), parse_duration_ms(p50.group(1)), parse_duration_ms(p99.group(1)),
                     errors, int(non_2xx.group(1)) if non_2xx else 0)


class ConnClient:
    """connclient.py as a child process: starts it, waits for its "ready" line, stops it by closing stdin."""

    def __init__(self, processes: ProcessSet, mode: str, port: int, count: int, log_file: Path,
                 max_seconds: float) -> None:
        self.processes = processes
        self.command = [sys.executable, str(BENCH_DIR / "connclient.py"), mode, "--port", str(port),
                        "--count", str(count), "--max-seconds", str(max_seconds),
                        "--parallel", "64" if mode == "idle" else "2048"]
        self.log_file = log_file
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        self.processes.processes.append(self.process)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process and self.process.stdout
        with open(self.log_file, "a") as handle:
            handle.write(f"$ {shlex.join(self.command)}\n")
            for line in self.process.stdout:
                handle.write(line)
                self.lines.append(line.strip())
                if line.startswith("ready"):
                    self.ready.set()

    def wait_ready(self, timeout: float) -> str | None:
        return self.lines_matching("ready")[-1] if self.ready.wait(timeout) else None

    def lines_matching(self, prefix: str) -> list[str]:
        return [line for line in self.lines if line.startswith(prefix)]

    def stop(self) -> None:
        assert self.process and self.process.stdin
        self.process.stdin.close()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            pass
        self.processes.stop(self.process)


def field(line: str | None, name: str) -> int:
    match = re.search(rf"\b{name}=(\d+)", line or "")
    return int(match.group(1)) if match else 0


# ---------------------------------------------------------------------------------------------------------
# Machine


def load_average() -> float:
    return os.getloadavg()[0]


def wait_for_quiet(max_load: float, max_minutes: float) -> tuple[float, bool]:
    """Wait until the 1-minute load average is below max_load, checking every 30 s; return (load, quiet)."""
    deadline = time.monotonic() + max_minutes * 60
    while True:
        load = load_average()
        if load < max_load:
            return load, True
        if time.monotonic() >= deadline:
            log(f"load average still {load:.2f} after {max_minutes:g} min: running anyway")
            return load, False
        log(f"load average {load:.2f} >= {max_load}: waiting 30 s")
        time.sleep(30)


def machine_description() -> dict[str, str]:
    memory = next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal:"))
    cpu_model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), "unknown")

    def version(command: list[str]) -> str:
        try:
            completed = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
            return (completed.stdout + completed.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return "unknown"

    runtimes = subprocess.run(["dotnet", "--list-runtimes"], capture_output=True, text=True, check=False).stdout
    netcore = re.search(r"Microsoft\.NETCore\.App (\S+)", runtimes)
    aspnet = re.search(r"Microsoft\.AspNetCore\.App (\S+)", runtimes)
    return {
        "cpu": f"{os.cpu_count()} cores, {cpu_model}",
        "memory": f"{int(memory) / 1024 / 1024:.1f} GiB",
        "kernel": platform.release(),
        "os": version(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
        "dotnet": f"SDK {version(['dotnet', '--version'])}, runtime {netcore.group(1) if netcore else '?'}, "
                  f"ASP.NET Core {aspnet.group(1) if aspnet else '?'}",
        "nginx": version(["nginx", "-v"]),
        "haproxy": version(["haproxy", "-v"]),
        "wrk": version(["wrk", "-v"]),
        "python": platform.python_version(),
        "guard": os.environ.get("BENCH_GUARD_SOURCE_DESCRIPTION", "a build made outside run.sh"),
    }


# ---------------------------------------------------------------------------------------------------------
# Measurements


@dataclasses.dataclass
class Settings:
    rounds: int
    wrk_seconds: int
    idle_count: int
    slow_count: int
    warmup_seconds: int = 5


def start_target(processes: ProcessSet, target: Target, run_dir: Path, extra: list[str] | None = None,
                 env: dict[str, str] | None = None) -> tuple[subprocess.Popen, float]:
    merged_env = dict(target.env)
    merged_env.update(env or {})
    process = processes.start(target.command(extra or []), run_dir / "logs" / f"{target.name}.log",
                              env=merged_env, stdout_to_log=target.stdout_to_log)
    seconds = wait_until_ok(target.port, 60, process)
    return process, seconds


def warm_up(target: Target, seconds: int, run_dir: Path) -> None:
    run_wrk(target.port, seconds, False, run_dir / "logs" / "wrk-warmup.log")


def measure_throughput(processes: ProcessSet, targets: list[Target], settings: Settings,
                       run_dir: Path) -> dict[str, dict]:
    """Keep-alive and connection-close wrk runs, proxies in round-robin, the start order rotated each round."""
    started = {}
    results: dict[str, dict] = {t.name: {"keepalive": [], "close": [], "rss_rest_kib": 0, "rss_load_kib": []}
                                for t in targets}
    try:
        for target in targets:
            process, _ = start_target(processes, target, run_dir)
            started[target.name] = process
            warm_up(target, settings.warmup_seconds, run_dir)
        time.sleep(2)
        for target in targets:
            results[target.name]["rss_rest_kib"] = resident_kib(started[target.name].pid)

        wrk_log = run_dir / "logs" / "wrk-throughput.log"
        for round_index in range(settings.rounds):
            order = targets[round_index % len(targets):] + targets[:round_index % len(targets)]
            for target in order:
                pid = started[target.name].pid
                with RssSampler(pid) as sampler:
                    keepalive = run_wrk(target.port, settings.wrk_seconds, False, wrk_log)
                time.sleep(1)
                close = run_wrk(target.port, settings.wrk_seconds, True, wrk_log)
                time.sleep(1)
                results[target.name]["keepalive"].append(dataclasses.asdict(keepalive))
                results[target.name]["close"].append(dataclasses.asdict(close))
                results[target.name]["rss_load_kib"].append(sampler.max_kib)
                log(f"round {round_index + 1} {target.name}: keep-alive {keepalive.requests_per_second:.0f} req/s "
                    f"p99 {keepalive.p99_ms:.2f} ms, close {close.requests_per_second:.0f} req/s "
                    f"p99 {close.p99_ms:.2f} ms")
    finally:
        for process in started.values():
            processes.stop(process)
    return results


def measure_idle(processes: ProcessSet, target: Target, pid: int, count: int, run_dir: Path) -> dict:
    """RSS before and after COUNT idle keep-alive connections, each after one request."""
    time.sleep(2)
    before = resident_kib(pid)
    client = ConnClient(processes, "idle", target.port, count, run_dir / "logs" / f"idle-{target.name}.log", 90)
    client.start()
    ready = client.wait_ready(60)
    # Let upstream pools shrink and the runtime settle before the after-sample.
    time.sleep(5)
    after = resident_kib(pid)
    client.stop()
    return {
        "rss_before_kib": before,
        "rss_after_kib": after,
        "opened": field(ready, "opened"),
        "ok": field(ready, "ok"),
        "failed": field(ready, "failed") if ready else count,
        "bytes_per_connection": (after - before) * 1024 / max(1, field(ready, "opened")),
    }


def measure_slowloris(processes: ProcessSet, target: Target, pid: int, settings: Settings, run_dir: Path) -> dict:
    """wrk without an attack, then wrk while COUNT slowloris connections are held open."""
    wrk_log = run_dir / "logs" / "wrk-slowloris.log"
    time.sleep(2)
    rest = resident_kib(pid)
    with RssSampler(pid) as sampler_without:
        without = run_wrk(target.port, settings.wrk_seconds, False, wrk_log)
    time.sleep(2)

    client = ConnClient(processes, "slowloris", target.port, settings.slow_count,
                        run_dir / "logs" / f"slowloris-{target.name}.log", settings.wrk_seconds + 60)
    client.start()
    ready = client.wait_ready(30)
    with RssSampler(pid) as sampler:
        during = run_wrk(target.port, settings.wrk_seconds, False, wrk_log)
    statuses = client.lines_matching("status")
    client.stop()
    # The status lines printed while wrk ran: one per second.
    open_counts = [field(line, "open") for line in statuses[-settings.wrk_seconds:]]
    return {
        "rss_rest_kib": rest,
        "rss_without_max_kib": sampler_without.max_kib,
        "rss_attack_max_kib": sampler.max_kib,
        "reached_count": ready is not None,
        "open_min_during_wrk": min(open_counts) if open_counts else 0,
        "open_median_during_wrk": median(open_counts),
        "closed_by_server": field(statuses[-1] if statuses else None, "closed_by_server"),
        "without": dataclasses.asdict(without),
        "during": dataclasses.asdict(during),
    }


def measure_memory(processes: ProcessSet, targets: list[Target], settings: Settings, run_dir: Path) -> dict:
    """Per proxy, in a fresh process: RSS at rest, the idle-connection test, then the slowloris test."""
    results = {}
    for target in targets:
        idle_args = GUARD_MEMORY_TEST_ARGS if target.name == "guard" else []
        process, _ = start_target(processes, target, run_dir, idle_args)
        try:
            warm_up(target, settings.warmup_seconds, run_dir)
            idle = measure_idle(processes, target, process.pid, settings.idle_count, run_dir)
        finally:
            processes.stop(process)
        log(f"{target.name}: {idle['opened']} idle connections, "
            f"{idle['bytes_per_connection']:.0f} bytes per connection")

        slow_args = GUARD_SLOWLORIS_TEST_ARGS if target.name == "guard" else []
        process, _ = start_target(processes, target, run_dir, slow_args)
        try:
            warm_up(target, settings.warmup_seconds, run_dir)
            slow = measure_slowloris(processes, target, process.pid, settings, run_dir)
        finally:
            processes.stop(process)
        log(f"{target.name}: slowloris max RSS {slow['rss_attack_max_kib'] / 1024:.0f} MiB, "
            f"{slow['during']['requests_per_second']:.0f} req/s during vs "
            f"{slow['without']['requests_per_second']:.0f} without")
        results[target.name] = {"idle": idle, "slowloris": slow}
    return results


# ---------------------------------------------------------------------------------------------------------
# Variants (performance pass)


@dataclasses.dataclass
class Variant:
    name: str
    description: str
    env: dict[str, str] = dataclasses.field(default_factory=dict)
    args: list[str] = dataclasses.field(default_factory=list)


REQUEST_LOG_OFF = "--Serilog:MinimumLevel:Override:ConnLeakGuard.Telemetry.ProxyRequestLogMiddleware=Warning"

VARIANTS = [
    Variant("default", "as shipped: Server GC, concurrent, DATAS (the .NET 10 default for Server GC)"),
    Variant("workstation", "Workstation GC, concurrent", {"DOTNET_gcServer": "0"}),
    Variant("workstation-nonconcurrent", "Workstation GC, no background GC",
            {"DOTNET_gcServer": "0", "DOTNET_gcConcurrent": "0"}),
    Variant("server-no-datas", "Server GC without DATAS",
            {"DOTNET_gcServer": "1", "DOTNET_GCDynamicAdaptationMode": "0"}),
    Variant("server-datas", "Server GC with DATAS set explicitly",
            {"DOTNET_gcServer": "1", "DOTNET_GCDynamicAdaptationMode": "1"}),
    Variant("conserve-5", "as shipped plus GCConserveMemory=5", {"DOTNET_GCConserveMemory": "5"}),
    Variant("workstation-conserve-5", "Workstation GC plus GCConserveMemory=5",
            {"DOTNET_gcServer": "0", "DOTNET_GCConserveMemory": "5"}),
    Variant("no-tiered-pgo", "TieredPGO off", {"DOTNET_TieredPGO": "0"}),
    Variant("no-quick-jit-loops", "TC_QuickJitForLoops off", {"DOTNET_TC_QuickJitForLoops": "0"}),
    Variant("no-ready-to-run", "ReadyToRun code ignored (everything JIT-compiled)", {"DOTNET_ReadyToRun": "0"}),
    Variant("min-threads-8", "thread pool minimum 8 worker threads",
            {"DOTNET_ThreadPool_ForceMinWorkerThreads": "8"}),
    Variant("no-spin", "thread pool workers do not spin before they sleep",
            {"DOTNET_ThreadPool_UnfairSemaphoreSpinLimit": "0"}),
    Variant("inline-sockets", "socket completions run inline on the epoll thread",
            {"DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS": "1"}),
    Variant("request-log-off", "per-request log line at Warning (not written)", args=[REQUEST_LOG_OFF]),
    # Serilog's File sink, already shipped with the guard, writing standard output through a 4 KiB buffer that is
    # flushed every second: what an asynchronous or buffered sink would save over one write call per line.
    Variant("request-log-buffered", "per-request log line through a buffered writer (File sink on /dev/stdout)",
            args=["--Serilog:WriteTo:0:Name=File",
                  "--Serilog:WriteTo:0:Args:path=/dev/stdout",
                  "--Serilog:WriteTo:0:Args:buffered=true",
                  "--Serilog:WriteTo:0:Args:flushToDiskInterval=00:00:01",
                  "--Serilog:WriteTo:0:Args:fileSizeLimitBytes=",
                  "--Serilog:WriteTo:0:Args:formatter="
                  "Serilog.Formatting.Compact.RenderedCompactJsonFormatter, Serilog.Formatting.Compact"]),
    Variant("workstation-log-off", "Workstation GC and no per-request log line", {"DOTNET_gcServer": "0"},
            [REQUEST_LOG_OFF]),
]


def measure_variants(processes: ProcessSet, variants: list[Variant], settings: Settings, run_dir: Path) -> dict:
    """Each variant in a fresh guard process: start-up time, throughput, RSS at rest, under load and idle."""
    guard = make_targets(run_dir)["guard"]
    results: dict[str, dict] = {v.name: {"runs": []} for v in variants}
    for round_index in range(settings.rounds):
        # Rotate the order each round, so that drift on a shared machine does not always hit the same variant.
        shift = round_index * len(variants) // max(1, settings.rounds)
        for variant in variants[shift:] + variants[:shift]:
            process, startup = start_target(processes, guard, run_dir, GUARD_MEMORY_TEST_ARGS + variant.args,
                                            variant.env)
            try:
                warm_up(guard, settings.warmup_seconds, run_dir)
                time.sleep(2)
                rest = resident_kib(process.pid)
                with RssSampler(process.pid) as sampler:
                    keepalive = run_wrk(guard.port, settings.wrk_seconds, False, run_dir / "logs" / "wrk-variants.log")
                idle = measure_idle(processes, guard, process.pid, settings.idle_count, run_dir)
                threads = len(os.listdir(f"/proc/{process.pid}/task"))
            finally:
                processes.stop(process)
            run = {
                "startup_seconds": startup,
                "rss_rest_kib": rest,
                "rss_load_kib": sampler.max_kib,
                "keepalive": dataclasses.asdict(keepalive),
                "idle": idle,
                "threads": threads,
            }
            results[variant.name]["runs"].append(run)
            log(f"round {round_index + 1} {variant.name}: {keepalive.requests_per_second:.0f} req/s, "
                f"p99 {keepalive.p99_ms:.2f} ms, rest {rest / 1024:.0f} MiB, load {sampler.max_kib / 1024:.0f} MiB, "
                f"{idle['bytes_per_connection']:.0f} B/idle connection")
    return results


# ---------------------------------------------------------------------------------------------------------
# Report


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f}"


def ratio(value: float, reference: float) -> str:
    return f"{value / reference:.2f}" if reference else "n/a"


def summarize_wrk(runs: list[dict]) -> dict:
    return {
        "rps": median([r["requests_per_second"] for r in runs]),
        "p50": median([r["p50_ms"] for r in runs]),
        "p99": median([r["p99_ms"] for r in runs]),
        "errors": sum(r["errors"] + r["non_2xx"] for r in runs),
        "all_rps": [round(r["requests_per_second"]) for r in runs],
    }


def commands_section(results: dict) -> str:
    lines = ["Commands, as run (PORT is the proxy's port; the backend is nginx on 127.0.0.1:25000):", "", "```sh"]
    lines += [
        "wrk -t2 -c64 -d10s --latency --timeout 5s http://127.0.0.1:PORT/                          # keep-alive",
        "wrk -t2 -c64 -d10s --latency --timeout 5s -H 'Connection: close' http://127.0.0.1:PORT/   # new connection per request",
        f"python3 tests/benchmarks/connclient.py idle --port PORT --count {results['settings']['idle_count']}",
        f"python3 tests/benchmarks/connclient.py slowloris --port PORT --count {results['settings']['slow_count']}",
    ]
    for name, command in results["commands"].items():
        lines.append(f"{command}   # {name}")
    lines += ["```", ""]
    return "\n".join(lines)


def machine_section(results: dict) -> str:
    machine = results["machine"]
    load = results["load"]
    quiet_note = "" if load["quiet"] else (
        f" The machine did not get below a load average of {load['max_load']} within the "
        f"{load['wait_minutes']:g}-minute wait, so this run shares the CPU with other work and its numbers "
        "are noisier than a quiet run's.")
    samples = load.get("during", [])
    if samples and max(samples) >= load["max_load"]:
        quiet_note += (
            f" Other work started during the run: the load average at the start of the wrk runs went from "
            f"{min(samples):.2f} to {max(samples):.2f} (median {statistics.median(samples):.2f}), so the "
            "numbers are noisier than a quiet run's.")
    return "\n".join([
        f"- CPU: {machine['cpu']}; memory: {machine['memory']}; kernel {machine['kernel']}; {machine['os']}",
        f"- .NET: {machine['dotnet']}; {machine['nginx']}; {machine['haproxy']}; {machine['wrk']}; "
        f"Python {machine['python']}",
        f"- Guard build: {machine['guard']}",
        f"- 1-minute load average: {load['before']:.2f} before, {load['after']:.2f} after.{quiet_note}",
        "",
    ])


def compare_report(results: dict) -> str:
    settings = results["settings"]
    throughput = results["throughput"]
    memory = results["memory"]
    names = list(throughput)
    keepalive = {n: summarize_wrk(throughput[n]["keepalive"]) for n in names}
    close = {n: summarize_wrk(throughput[n]["close"]) for n in names}

    out = [f"### Run of {results['started']} ({results['mode']})", "", machine_section(results)]
    out += [f"#### Throughput and latency (median of {settings['rounds']} rounds, wrk -t2 -c64 -d{settings['wrk_seconds']}s)",
            "",
            "| Proxy | Keep-alive req/s | × nginx | × plain YARP | p50 ms | p99 ms | Connection: close req/s "
            "| × nginx | × plain YARP | p50 ms | p99 ms | Errors |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name in names:
        k, c = keepalive[name], close[name]
        out.append(
            f"| {name} | {k['rps']:.0f} | {ratio(k['rps'], keepalive['nginx']['rps'])} "
            f"| {ratio(k['rps'], keepalive['plain-yarp']['rps'])} | {k['p50']:.2f} | {k['p99']:.2f} "
            f"| {c['rps']:.0f} | {ratio(c['rps'], close['nginx']['rps'])} | {ratio(c['rps'], close['plain-yarp']['rps'])} "
            f"| {c['p50']:.2f} | {c['p99']:.2f} | {k['errors'] + c['errors']} |")
    out += ["", "Requests per second in each round (keep-alive / close): " + "; ".join(
        f"{n} {keepalive[n]['all_rps']} / {close[n]['all_rps']}" for n in names) + ".", ""]

    out += ["#### Memory (one fresh process per proxy and test)", "",
            f"| Proxy | RSS at rest MiB | × nginx | × plain YARP | RSS under keep-alive load MiB "
            f"| Bytes per idle connection ({settings['idle_count']:,} open) | × nginx | × plain YARP |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name in names:
        idle = memory[name]["idle"]
        rest = throughput[name]["rss_rest_kib"]
        per_connection = idle["bytes_per_connection"]
        out.append(
            f"| {name} | {mib(rest)} | {ratio(rest, throughput['nginx']['rss_rest_kib'])} "
            f"| {ratio(rest, throughput['plain-yarp']['rss_rest_kib'])} "
            f"| {mib(median(throughput[name]['rss_load_kib']))} | {per_connection:,.0f} "
            f"| {ratio(per_connection, memory['nginx']['idle']['bytes_per_connection'])} "
            f"| {ratio(per_connection, memory['plain-yarp']['idle']['bytes_per_connection'])} |")
    out += ["", "Idle test detail (opened / 200 responses / failed): " + "; ".join(
        f"{n} {memory[n]['idle']['opened']}/{memory[n]['idle']['ok']}/{memory[n]['idle']['failed']}"
        for n in names) + ".", ""]

    out += [f"#### Slowloris ({settings['slow_count']:,} connections with unfinished headers)", "",
            "| Proxy | RSS at rest MiB | Max RSS, wrk alone MiB | Max RSS, wrk during attack MiB | Increase over rest MiB "
            "| × nginx | × plain YARP | req/s without attack | req/s during attack | During / without | p99 ms during "
            "| Errors during |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    increase = {n: memory[n]["slowloris"]["rss_attack_max_kib"] - memory[n]["slowloris"]["rss_rest_kib"] for n in names}
    for name in names:
        slow = memory[name]["slowloris"]
        out.append(
            f"| {name} | {mib(slow['rss_rest_kib'])} | {mib(slow['rss_without_max_kib'])} "
            f"| {mib(slow['rss_attack_max_kib'])} | {mib(increase[name])} "
            f"| {ratio(increase[name], increase['nginx'])} | {ratio(increase[name], increase['plain-yarp'])} "
            f"| {slow['without']['requests_per_second']:.0f} | {slow['during']['requests_per_second']:.0f} "
            f"| {ratio(slow['during']['requests_per_second'], slow['without']['requests_per_second'])} "
            f"| {slow['during']['p99_ms']:.2f} | {slow['during']['errors'] + slow['during']['non_2xx']} |")
    out += ["", "Slowloris connections open during the wrk run (median / fewest, sampled each second), and "
            "connections the server closed: " + "; ".join(
                f"{n} {memory[n]['slowloris']['open_median_during_wrk']:.0f} / "
                f"{memory[n]['slowloris']['open_min_during_wrk']}, {memory[n]['slowloris']['closed_by_server']:,} closed"
                for n in names) + ".", ""]

    guard_k, yarp_k, nginx_k = keepalive["guard"], keepalive["plain-yarp"], keepalive["nginx"]
    guard_slow = memory["guard"]["slowloris"]
    guard_idle = memory["guard"]["idle"]["bytes_per_connection"]
    slow_ratio = guard_slow["during"]["requests_per_second"] / max(1.0, guard_slow["without"]["requests_per_second"])

    def verdict(met: bool) -> str:
        return "met" if met else "not met"

    out += ["#### Targets", "",
            "| Target | Measured | Result |", "| --- | --- | --- |",
            f"| Guard keep-alive throughput ≥ 0.95 × plain YARP | {ratio(guard_k['rps'], yarp_k['rps'])} × "
            f"| {verdict(guard_k['rps'] >= 0.95 * yarp_k['rps'])} |",
            f"| ≤ 4 KB (4,096 bytes) RSS per idle keep-alive connection | {guard_idle:,.0f} bytes "
            f"| {verdict(guard_idle <= 4096)} |",
            f"| RSS with {settings['slow_count']:,} slowloris connections ≤ 64 MiB above rest | "
            f"{mib(increase['guard'])} MiB | {verdict(increase['guard'] <= 64 * 1024)} |",
            f"| Throughput during the attack ≥ 80 % of throughput without it | {slow_ratio:.0%} "
            f"| {verdict(slow_ratio >= 0.8)} |",
            f"| Aim: keep-alive throughput ≥ nginx | {ratio(guard_k['rps'], nginx_k['rps'])} × "
            f"| {verdict(guard_k['rps'] >= nginx_k['rps'])} |",
            f"| Aim: keep-alive p99 ≤ nginx | {guard_k['p99']:.2f} ms vs {nginx_k['p99']:.2f} ms "
            f"| {verdict(guard_k['p99'] <= nginx_k['p99'])} |",
            ""]
    out.append(commands_section(results))
    return "\n".join(out)


def variants_report(results: dict) -> str:
    settings = results["settings"]
    variants = results["variants"]
    base = variants["default"]["runs"]
    base_rps = median([r["keepalive"]["requests_per_second"] for r in base])
    out = [f"### Run of {results['started']} (variants)", "", machine_section(results),
           f"The guard alone, one fresh process per variant and round, {settings['rounds']} rounds, medians. "
           f"Throughput: wrk -t2 -c64 -d{settings['wrk_seconds']}s with keep-alive. Every variant runs with "
           f"`{GUARD_MEMORY_TEST_ARGS[0]}` for its idle test ({settings['idle_count']:,} connections).", "",
           "| Variant | Setting | Start-up s | Keep-alive req/s | × default | p50 ms | p99 ms | RSS at rest MiB "
           "| RSS under load MiB | Bytes per idle connection | Threads |",
           "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for variant in VARIANTS:
        if variant.name not in variants:
            continue
        runs = variants[variant.name]["runs"]
        rps = median([r["keepalive"]["requests_per_second"] for r in runs])
        setting = " ".join([f"`{k}={v}`" for k, v in variant.env.items()] + [f"`{a}`" for a in variant.args]) or "none"
        out.append(
            f"| {variant.name} | {setting} | {median([r['startup_seconds'] for r in runs]):.2f} | {rps:.0f} "
            f"| {ratio(rps, base_rps)} | {median([r['keepalive']['p50_ms'] for r in runs]):.2f} "
            f"| {median([r['keepalive']['p99_ms'] for r in runs]):.2f} "
            f"| {mib(median([r['rss_rest_kib'] for r in runs]))} | {mib(median([r['rss_load_kib'] for r in runs]))} "
            f"| {median([r['idle']['bytes_per_connection'] for r in runs]):,.0f} "
            f"| {median([r['threads'] for r in runs]):.0f} |")
    out += ["", "Keep-alive requests per second in each round: " + "; ".join(
        f"{name} {[round(r['keepalive']['requests_per_second']) for r in v['runs']]}" for name, v in variants.items())
        + ".", ""]
    return "\n".join(out)


def append_docs(text: str) -> None:
    """Append one run's report to docs/benchmarks.md, which describes the method above the first run."""
    if not DOCS_FILE.exists():
        DOCS_FILE.write_text("# Benchmarks\n\nRuns of `tests/benchmarks/run.sh`; see that script for the method.\n\n")
    with open(DOCS_FILE, "a") as handle:
        handle.write(text.rstrip() + "\n\n")



# ---------------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", nargs="?", default="compare", choices=["compare", "variants", "smoke"])
    parser.add_argument("--rounds", type=int, help="rounds (default 3 for compare, 2 for variants, 1 for smoke)")
    parser.add_argument("--warmup-seconds", type=int, help="seconds of wrk load before each measurement (default 5)")
    parser.add_argument("--wrk-seconds", type=int, help="duration of each measured wrk run (default 10)")
    parser.add_argument("--idle-count", type=int, help="idle keep-alive connections (default 8000)")
    parser.add_argument("--slow-count", type=int, help="slowloris connections (default 10000)")
    parser.add_argument("--only", help="variants mode: comma-separated variant names to run (default all)")
    parser.add_argument("--max-load", type=float, default=1.5, help="wait for a 1-minute load average below this")
    parser.add_argument("--wait-minutes", type=float, default=25, help="maximum wait for a quiet machine")
    parser.add_argument("--no-docs", action="store_true", help="do not append the report to docs/benchmarks.md")
    args = parser.parse_args()

    if args.mode == "smoke":
        settings = Settings(rounds=args.rounds or 1, wrk_seconds=2, idle_count=1000, slow_count=1000, warmup_seconds=1)
    elif args.mode == "variants":
        settings = Settings(rounds=args.rounds or 2, wrk_seconds=10, idle_count=8000, slow_count=10000)
    else:
        settings = Settings(rounds=args.rounds or 3, wrk_seconds=10, idle_count=8000, slow_count=10000)
    for name in ("warmup_seconds", "wrk_seconds", "idle_count", "slow_count"):
        if getattr(args, name) is not None:
            setattr(settings, name, getattr(args, name))

    started = datetime.datetime.now(datetime.timezone.utc)
    run_dir = ARTIFACTS / "runs" / started.strftime("%Y%m%dT%H%M%SZ")
    run_dir.mkdir(parents=True)
    log(f"mode {args.mode}, output in {run_dir}")

    processes = ProcessSet()

    def on_signal(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)

    load_before, quiet = wait_for_quiet(args.max_load, 0 if args.mode == "smoke" else args.wait_minutes)
    results: dict = {
        "mode": args.mode,
        "started": started.strftime("%Y-%m-%d %H:%M UTC"),
        "settings": dataclasses.asdict(settings),
        "machine": machine_description(),
        "load": {"before": load_before, "quiet": quiet, "max_load": args.max_load, "wait_minutes": args.wait_minutes},
    }
    clock = time.monotonic()
    try:
        backend_config = write_nginx_backend(run_dir / "nginx-backend")
        backend_command = ["nginx", "-p", str(backend_config.parent), "-c", str(backend_config), "-g", "daemon off;"]
        backend = processes.start(backend_command, run_dir / "logs" / "backend.log")
        wait_until_ok(BACKEND_PORT, 30, backend)

        targets = make_targets(run_dir)
        results["commands"] = {"backend": shlex.join(backend_command)}
        for name, target in targets.items():
            results["commands"][name] = shlex.join(target.command([]))
        if args.mode == "variants":
            wanted = set(args.only.split(",")) if args.only else {v.name for v in VARIANTS}
            wanted.add("default")
            selected = [v for v in VARIANTS if v.name in wanted]
            results["variants"] = measure_variants(processes, selected, settings, run_dir)
        else:
            ordered = [targets[name] for name in ("nginx", "haproxy", "plain-yarp", "guard")]
            results["throughput"] = measure_throughput(processes, ordered, settings, run_dir)
            results["memory"] = measure_memory(processes, ordered, settings, run_dir)
    finally:
        processes.stop_all()

    results["load"]["after"] = load_average()
    results["load"]["during"] = LOAD_SAMPLES
    results["elapsed_seconds"] = time.monotonic() - clock
    (run_dir / "results.json").write_text(json.dumps(results, indent=2))
    report = variants_report(results) if args.mode == "variants" else compare_report(results)
    report += f"Measured in {results['elapsed_seconds'] / 60:.1f} minutes; raw results: " \
              f"`artifacts/bench/runs/{run_dir.name}/results.json`.\n"
    (run_dir / "report.md").write_text(report)
    print(report)
    if not args.no_docs:
        append_docs(report)
        log(f"appended to {DOCS_FILE.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

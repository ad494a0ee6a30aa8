"""Run the ConnLeakGuard conformance checks against a built guard.

Starts the upstream and two guard instances on loopback, runs every check, prints the
pass/fail table and exits 1 when any check failed (2 when the suite could not start).

run.sh builds the guard and calls this module; run it directly only against an existing build:
    python3 -m harness --guard-dll src/ConnLeakGuard/bin/Release/net10.0/ConnLeakGuard.dll
from tests/conformance.
"""

import argparse
import os
import signal
import sys
import time
import traceback

from .attack_run import run_attack
from .attacks import build_attacks
from .context import MARGIN_SECONDS, GuardInstance, SuiteContext
from .http2_load import run_h2load
from .idle import run_idle_checks
from .outbound import run_outbound_checks
from .processes import ManagedProcess, http_get, port_is_free, wait_for_http, wait_for_tcp
from .results import Result, ResultTable
from .sampling import GuardSampler
from .semantics import SemanticsChecks
from .settings import SuiteSettings

SUITE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_DIR = os.path.dirname(os.path.dirname(SUITE_DIR))
GROUPS = ("outbound", "semantics", "h2load", "idle", "attacks")


def parse_arguments(argv):
    parser = argparse.ArgumentParser(prog="python3 -m harness", description=__doc__.splitlines()[0])
    parser.add_argument("--guard-dll", default=os.path.join(REPO_DIR, "src/ConnLeakGuard/bin/Release/net10.0/ConnLeakGuard.dll"),
                        help="built guard assembly, run with 'dotnet DLL' (default: the Release build)")
    parser.add_argument("--config", default=os.path.join(SUITE_DIR, "guard.json"),
                        help="guard configuration with the suite's short limits (default: tests/conformance/guard.json)")
    parser.add_argument("--artifacts", default=os.path.join(REPO_DIR, "artifacts/conformance"),
                        help="folder for logs, CSV statistics and the result table (default: artifacts/conformance)")
    parser.add_argument("--memory-limit-mib", type=int, default=512,
                        help="maximum guard VmRSS during any check, in MiB (default 512)")
    parser.add_argument("--only", default="",
                        help=f"comma-separated groups ({', '.join(GROUPS)}) or attack names to run; default all")
    return parser.parse_args(argv)


def _selected(only, name):
    return not only or name in only


def start_upstream(settings, artifacts):
    upstream = ManagedProcess(
        "upstream",
        [sys.executable, os.path.join(SUITE_DIR, "upstream.py"),
         "--port", str(settings.upstream_port), "--control-port", str(settings.upstream_control_port)],
        os.path.join(artifacts, "upstream.log"),
    ).start()
    wait_for_tcp(settings.upstream_port, timeout=15, process=upstream)
    wait_for_tcp(settings.upstream_control_port, timeout=15, process=upstream)
    return upstream


def start_guard(name, arguments, settings, port, admin_port, overrides):
    process = ManagedProcess(
        name,
        ["dotnet", arguments.guard_dll, "--config", arguments.config, *overrides],
        os.path.join(arguments.artifacts, f"{name}.log"),
        cwd=REPO_DIR,
    ).start()
    wait_for_http(f"http://127.0.0.1:{admin_port}/healthz/ready", timeout=60, process=process)
    wait_for_tcp(port, timeout=10, process=process)
    sampler = GuardSampler(process.pid, port)
    sampler.start()
    return GuardInstance(name, process, port, admin_port, sampler)


def stop_guard(guard, settings, origin, artifacts):
    """Stop a guard with SIGTERM and check that it drains and exits 0 in time."""
    status, body = http_get(f"http://127.0.0.1:{guard.admin_port}/metrics")
    with open(os.path.join(artifacts, f"{guard.name}-metrics.txt"), "wb") as metrics:
        metrics.write(body if status == 200 else f"GET /metrics returned {status}\n".encode() + body)
    guard.sampler.stop()
    guard.sampler.write_csv(os.path.join(artifacts, f"{guard.name}-samples.csv"), origin)
    allowed = settings.drain_delay + settings.drain_timeout + MARGIN_SECONDS
    exit_code = guard.process.stop(grace_seconds=allowed + 5)
    seconds = guard.process.stop_seconds or 0.0
    return Result.of("shutdown", f"{guard.name} exits on SIGTERM", exit_code == 0 and seconds <= allowed,
                     f"exit code {exit_code} after {seconds:.1f} s",
                     f"0 within {allowed:g} s (DrainDelay + DrainTimeout + {MARGIN_SECONDS:g} s)")


def run_group(table, name, action):
    print(f"== {name}", flush=True)
    try:
        table.extend(action())
    except Exception as error:  # noqa: BLE001 - one broken group must not hide the others' results
        traceback.print_exc()
        table.add(Result.of(name, "group ran to the end", False, f"{type(error).__name__}: {error}", "no error"))


def run_checks(context, table, only):
    if _selected(only, "outbound"):
        run_group(table, "outbound slots", lambda: run_outbound_checks(context))
    if _selected(only, "semantics"):
        run_group(table, "HTTP/1.1 semantics", lambda: SemanticsChecks(context, context.guard, http2=False).run())
        run_group(table, "HTTP/2 semantics", lambda: SemanticsChecks(context, context.guard_h2, http2=True).run())
    if _selected(only, "h2load"):
        run_group(table, "HTTP/2 h2load", lambda: run_h2load(context))
    if _selected(only, "idle"):
        run_group(table, "idle connections", lambda: run_idle_checks(context))
    for attack in build_attacks(context.settings):
        if not only or "attacks" in only or attack.name in only:
            run_group(table, attack.name, lambda attack=attack: run_attack(context, attack))


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv):
    arguments = parse_arguments(argv)
    only = {item.strip() for item in arguments.only.split(",") if item.strip()}
    os.makedirs(arguments.artifacts, exist_ok=True)
    settings = SuiteSettings.load(arguments.config)

    if not os.path.exists(arguments.guard_dll):
        print(f"guard assembly not found: {arguments.guard_dll}; build it with 'dotnet build src/ConnLeakGuard -c Release'",
              file=sys.stderr)
        return 2
    busy = [port for port in settings.all_ports() if not port_is_free(port)]
    if busy:
        print(f"ports already in use: {busy}. Stop the processes that listen on them or change the ports in guard.json",
              file=sys.stderr)
        return 2

    # SIGTERM from CI or a user stops the suite's own processes before exiting.
    signal.signal(signal.SIGTERM, _raise_interrupt)

    origin = time.monotonic()
    table = ResultTable()
    guards = []
    try:
        upstream = start_upstream(settings, arguments.artifacts)
        guard = start_guard("guard-http1", arguments, settings, settings.guard_port, settings.admin_port, [])
        guards.append(guard)
        guard_h2 = start_guard(
            "guard-h2c", arguments, settings, settings.guard_h2_port, settings.admin_h2_port,
            [f"--ConnLeakGuard:Inbound:Urls=http://127.0.0.1:{settings.guard_h2_port}",
             "--ConnLeakGuard:Inbound:Protocols=Http2",
             # Kestrel reports why it closes an HTTP/2 connection or stream only at Debug level.
             "--Serilog:MinimumLevel:Override:Microsoft.AspNetCore.Server.Kestrel.Http2=Debug",
             f"--ConnLeakGuard:Admin:Urls=http://127.0.0.1:{settings.admin_h2_port}"])
        guards.append(guard_h2)
        print(f"upstream pid {upstream.pid}, guard pid {guard.process.pid} (HTTP/1.1 :{guard.port}), "
              f"guard pid {guard_h2.process.pid} (h2c :{guard_h2.port})", flush=True)

        context = SuiteContext(settings, SUITE_DIR, arguments.artifacts, arguments.memory_limit_mib,
                               guard, guard_h2, upstream)
        run_checks(context, table, only)

        for instance in guards:
            table.add(Result.info("overall", f"{instance.name} peak VmRSS",
                                  f"{(instance.sampler.peak_rss_kib() or 0) / 1024:.0f} MiB"))
        for instance in guards:
            table.add(stop_guard(instance, settings, origin, arguments.artifacts))
        guards.clear()
    except RuntimeError as error:
        table.add(Result.of("setup", "start upstream and guards", False, str(error), "all ready"))
    except KeyboardInterrupt:
        print("interrupted, so stopping the suite's processes", file=sys.stderr)
        table.add(Result.of("setup", "suite ran to the end", False, "interrupted", "not interrupted"))
    finally:
        for instance in guards:
            instance.sampler.stop()
        ManagedProcess.stop_all()

    print()
    print(table.render())
    with open(os.path.join(arguments.artifacts, "results.md"), "w", encoding="utf-8") as markdown:
        markdown.write(table.render_markdown() + "\n")
    print()
    print(f"Suite time {time.monotonic() - origin:.0f} s; logs and CSV statistics in {arguments.artifacts}")
    print(f"conformance: {table.passed} passed, {table.failed} failed")
    return 1 if table.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Start and stop the suite's own processes by PID, and wait for their ports."""

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request


class ManagedProcess:
    """A child process that the suite started, with its output in a log file.

    stop() signals only this PID, never a process name, so the suite cannot touch
    processes that other people run on the same machine.
    """

    _started = []

    def __init__(self, name, argv, log_path, cwd=None, env=None):
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.cwd = cwd
        self.env = env
        self.popen = None
        self.exit_code = None
        self.stop_seconds = None

    @property
    def pid(self):
        return self.popen.pid if self.popen else None

    def start(self):
        log_file = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self._log_file = log_file
        self.popen = subprocess.Popen(
            self.argv,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.cwd,
            env=self.env,
        )
        ManagedProcess._started.append(self)
        return self

    def is_running(self):
        return self.popen is not None and self.popen.poll() is None

    def wait(self, timeout):
        """Wait up to timeout seconds; return the exit code, or None if still running."""
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, grace_seconds=10.0):
        """Send SIGTERM, wait up to grace_seconds, then SIGKILL. Return the exit code."""
        if self.popen is None:
            return None

        started = time.monotonic()
        if self.popen.poll() is None:
            os.kill(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=grace_seconds)
            except subprocess.TimeoutExpired:
                os.kill(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)
            self.stop_seconds = time.monotonic() - started

        self.exit_code = self.popen.returncode
        self._log_file.close()
        if self in ManagedProcess._started:
            ManagedProcess._started.remove(self)
        return self.exit_code

    @classmethod
    def stop_all(cls):
        """Stop every process still running, newest first."""
        for process in reversed(list(cls._started)):
            process.stop(grace_seconds=10.0)


def port_is_free(port, host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def wait_for_tcp(port, timeout, host="127.0.0.1", process=None):
    """Wait until host:port accepts a connection. Raise RuntimeError on timeout or if process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and not process.is_running():
            raise RuntimeError(f"{process.name} exited with code {process.popen.returncode} before port {port} opened; see {process.log_path}")
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"port {host}:{port} did not accept connections within {timeout:.0f} s")


def http_get(url, timeout=5.0):
    """GET url; return (status, body bytes). A connection failure returns (None, error text)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (urllib.error.URLError, OSError) as error:
        return None, str(error).encode()


def http_post(url, timeout=5.0):
    request = urllib.request.Request(url, data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status, response.read()


def wait_for_http(url, timeout, process=None, expected_status=200):
    """Poll url until it returns expected_status. Raise RuntimeError on timeout or if process exits."""
    deadline = time.monotonic() + timeout
    last_response = None
    while time.monotonic() < deadline:
        if process is not None and not process.is_running():
            raise RuntimeError(f"{process.name} exited with code {process.popen.returncode}; see {process.log_path}")
        status, body = http_get(url, timeout=2.0)
        if status == expected_status:
            return
        last_response = (status, body[:200])
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not return {expected_status} within {timeout:.0f} s; last response {last_response}")

"""Gunicorn for the benchmark: started on a free port of 127.0.0.1, always stopped again."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path

HOST = "127.0.0.1"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
REQUEST_TIMEOUT_S = 10.0

# Only ever talk to 127.0.0.1 directly, whatever *_proxy variables are set.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ServerError(RuntimeError):
    """The server did not start or did not answer as it should."""


def free_port() -> int:
    """A port nobody listens on right now: the one the OS picks for port 0."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def gunicorn(
    app: str,
    *,
    env: dict[str, str],
    log_file: Path,
    workers: int,
    ready_path: str,
    pythonpath: Path | None = None,
    worker_class: str = "sync",
    threads: int = 1,
) -> Iterator[str]:
    """Serve `app` with `workers` workers (sync, or gthread with `threads` threads each);
    yields the base URL once `ready_path` answers."""
    port = free_port()
    options = [
        f"--workers={workers}",
        f"--worker-class={worker_class}",
        f"--threads={threads}",
        f"--bind={HOST}:{port}",
        "--access-logfile=/dev/null",
        "--log-level=warning",
        "--no-control-socket",  # servers started one after another must not share one
    ]
    if pythonpath is not None:
        options.append(f"--pythonpath={pythonpath}")
    command = [sys.executable, "-m", "gunicorn", *options, app]
    base_url = f"http://{HOST}:{port}"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_until_ready(process, base_url + ready_path, log_file)
            yield base_url
        finally:
            _stop(process)


def _wait_until_ready(process: subprocess.Popen[bytes], url: str, log_file: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(
                f"gunicorn exited with code {process.returncode}; its log:\n{_tail(log_file)}"
            )
        try:
            if get_status(url, timeout=1.0) == 200:
                return
        except OSError:
            pass  # not listening yet
        time.sleep(0.1)
    raise ServerError(f"{url} did not answer in {START_TIMEOUT_S:.0f} s; log:\n{_tail(log_file)}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Ask gunicorn to shut down (SIGTERM); kill it if it has not within STOP_TIMEOUT_S,
    or if waiting is cut short (a second Ctrl-C)."""
    try:
        process.terminate()
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=STOP_TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _tail(log_file: Path, lines: int = 20) -> str:
    text = log_file.read_text(encoding="utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:]) or "(empty)"


def get_status(url: str, timeout: float = REQUEST_TIMEOUT_S) -> int:
    """The HTTP status of a GET (the body is read and dropped)."""
    try:
        with _opener.open(url, timeout=timeout) as response:
            response.read()
            status: int = response.status
            return status
    except urllib.error.HTTPError as error:
        return error.code


def check_and_warm_up(url: str, requests: int = 20, parallel: int = 4) -> None:
    """Fail unless `url` answers 200, then request it a few more times in parallel,
    so every worker has compiled its templates and filled its caches before wrk starts."""
    try:
        status = get_status(url)
        if status != 200:
            raise ServerError(f"{url} answered {status}, not 200")
        with ThreadPoolExecutor(max_workers=parallel) as pool:
            statuses = set(pool.map(get_status, [url] * requests))
    except OSError as exc:
        raise ServerError(f"{url} did not answer: {exc}") from exc
    if statuses != {200}:
        raise ServerError(f"{url} answered {sorted(statuses)} while warming up")

"""Running wrk and reading its report."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass

# wrk's default of 2 s would drop the slowest responses from p99 as "timeouts".
TIMEOUT_S = 10


class LoadError(RuntimeError):
    """wrk failed or printed something we cannot read."""


@dataclass(frozen=True)
class LoadSettings:
    duration_s: int = 10
    connections: int = 32
    threads: int = 2


@dataclass(frozen=True)
class LoadResult:
    requests: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    non_2xx_3xx: int  # wrk counts responses with a status of 400 or more
    socket_errors: int  # connect, read, write and timeout errors

    @property
    def errors(self) -> int:
        return self.non_2xx_3xx + self.socket_errors


_TO_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_PERCENTILE = r"^\s*{}%\s+([\d.]+)(us|ms|s|m|h)\s*$"
_REQUESTS = re.compile(r"^\s*(\d+) requests in ", re.MULTILINE)
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


def wrk_path() -> str | None:
    return shutil.which("wrk")


def run_wrk(url: str, settings: LoadSettings) -> LoadResult:
    """Load `url` with wrk for `settings.duration_s` seconds and return what it measured."""
    wrk = wrk_path()
    if wrk is None:
        raise LoadError("wrk is not installed")
    command = [
        wrk,
        "--latency",
        f"--threads={settings.threads}",
        f"--connections={settings.connections}",
        f"--duration={settings.duration_s}s",
        f"--timeout={TIMEOUT_S}s",
        url,
    ]
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=settings.duration_s + 60
        )
    except subprocess.TimeoutExpired as exc:
        raise LoadError(f"wrk did not finish within {exc.timeout:.0f} s") from exc
    if result.returncode != 0:
        raise LoadError(f"wrk failed ({result.returncode}): {result.stderr.strip()}")
    return parse_wrk(result.stdout)


def parse_wrk(report: str) -> LoadResult:
    """Read requests, requests/s, p50, p99 and errors from `wrk --latency` output."""
    try:
        requests = int(_search(_REQUESTS, report).group(1))
        rate = float(_search(_RATE, report).group(1))
        p50 = _latency_ms(report, 50)
        p99 = _latency_ms(report, 99)
    except (LoadError, ValueError) as exc:
        raise LoadError(f"cannot read the wrk report ({exc}):\n{report}") from exc
    non_2xx = _NON_2XX.search(report)
    socket_errors = _SOCKET.search(report)
    return LoadResult(
        requests=requests,
        requests_per_s=rate,
        p50_ms=p50,
        p99_ms=p99,
        non_2xx_3xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(map(int, socket_errors.groups())) if socket_errors else 0,
    )


def _latency_ms(report: str, percentile: int) -> float:
    match = _search(re.compile(_PERCENTILE.format(percentile), re.MULTILINE), report)
    return float(match.group(1)) * _TO_MS[match.group(2)]


def _search(pattern: re.Pattern[str], text: str) -> re.Match[str]:
    match = pattern.search(text)
    if match is None:
        raise LoadError(f"no line matches {pattern.pattern!r}")
    return match

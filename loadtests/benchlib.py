"""Helpers shared by the benchmarks in loadtests/: free loopback ports, CPU pinning,
starting server processes and always stopping them, and running wrk. What the machine
did meanwhile is measured by bench_conditions.py. Loopback only. Nothing here asserts:
the scripts print figures.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv's bin: fakeboxer, uvicorn
WRK_SCRIPT = ROOT / "loadtests" / "wrk_bench.lua"
# The server gets one core to itself and the load generator the other, so a figure is
# what one core gives and the two do not take CPU from each other (perf-baseline.md).
SERVER_CPU = 1
LOAD_CPU = 0
WRK_MARK = "FAKEBOXER-WRK "


class BenchError(Exception):
    """The benchmark cannot go on; the message is one line for the user."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def require_tool(name: str, install_hint: str) -> str:
    path = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/local/sbin/{name}") if os.access(p, os.X_OK)),
        None,
    )
    if path is None:
        raise BenchError(f"{name} not found: install it with {install_hint}")
    return path


def can_pin() -> bool:
    return (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None


def pinned(cpu: int) -> list[str]:
    """The `taskset -c CPU` prefix, or nothing on a one-core machine."""
    return ["taskset", "-c", str(cpu)] if can_pin() else []


@contextlib.contextmanager
def this_process_on(cpu: int) -> Iterator[None]:
    """Run the block with this process (a probe client) on one CPU, then restore."""
    if not can_pin():
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


# --------------------------------------------------------------------------- commands


_PORT_RE = re.compile(r"(127\.0\.0\.1:|--port )[0-9]+")


class CommandLog:
    """The commands a benchmark ran, for the report: temp paths, ports and this checkout's
    location are replaced by placeholders, so the text fits any machine."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.tmp: Path | None = None
        self.aliases: dict[str, str] = {}  # long text -> its placeholder

    def alias(self, text: str, placeholder: str) -> None:
        self.aliases[text] = placeholder

    def _shown(self, arg: str) -> str:
        for long, placeholder in sorted(self.aliases.items(), key=lambda a: -len(a[0])):
            if long in arg:
                return f'"{arg.replace(long, placeholder)}"'  # double quotes: $ expands
        return shlex.quote(arg)

    def record(self, argv: Sequence[str]) -> None:
        text = " ".join(self._shown(arg) for arg in argv)
        if self.tmp is not None:
            text = text.replace(str(self.tmp), "$TMP")
        text = text.replace(str(ROOT) + "/", "")
        text = _PORT_RE.sub(r"\g<1><port>", text)
        if text not in self.lines:
            self.lines.append(text)


COMMANDS = CommandLog()


# --------------------------------------------------------------------------- processes


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGTERM it when the benchmark process dies, so a
    killed benchmark (a test timeout, kill -9) never leaves a server behind."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Processes:
    """Every process a benchmark starts. Leaving the `with` block stops the ones still
    running (SIGTERM, then SIGKILL), also after an exception or Ctrl-C."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.running: list[subprocess.Popen[bytes]] = []
        self.logs: dict[int, Path] = {}

    def start(
        self, name: str, argv: Sequence[str], env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        COMMANDS.record(argv)
        log = self.log_dir / f"{name}.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(
                list(argv),
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                preexec_fn=_die_with_parent,
            )
        self.running.append(proc)
        self.logs[proc.pid] = log
        return proc

    def log_tail(self, proc: subprocess.Popen[bytes], lines: int = 5) -> str:
        log = self.logs.get(proc.pid)
        if log is None or not log.exists():
            return ""
        return " | ".join(log.read_text(errors="replace").strip().splitlines()[-lines:])

    def stop(self, proc: subprocess.Popen[bytes], timeout: float = 60) -> int | None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        if proc in self.running:
            self.running.remove(proc)
        return proc.returncode

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in reversed(list(self.running)):
            self.stop(proc, timeout=30)


def wait_http(
    url: str,
    proc: subprocess.Popen[bytes],
    procs: Processes,
    timeout: float = 60,
    headers: dict[str, str] | None = None,
) -> None:
    """Until `url` answers 200; a one-line BenchError if the process exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(
                f"server exited with {proc.returncode} before {url} answered: "
                f"{procs.log_tail(proc)}"
            )
        try:
            if httpx.get(url, timeout=2, headers=headers).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise BenchError(f"{url} did not answer within {timeout:.0f} s: {procs.log_tail(proc)}")


def start_fakeboxer(
    procs: Processes,
    name: str,
    db: Path,
    *extra: str,
    cpu: int | None = SERVER_CPU,
    ready_timeout: float = 120,
) -> tuple[subprocess.Popen[bytes], str]:
    """`fakeboxer serve` on a free loopback port (pinned to `cpu`), once healthy."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAKEBOXER_")}
    argv = [
        *(pinned(cpu) if cpu is not None else []),
        str(BIN / "fakeboxer"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--db",
        str(db),
        "--log-level",
        "warning",
        *extra,
    ]
    proc = procs.start(name, argv, env)
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/_fakeboxer/health", proc, procs, timeout=ready_timeout)
    return proc, url


# --------------------------------------------------------------------------- wrk


@dataclass(frozen=True)
class WrkRun:
    """One wrk run, from the counters wrk_bench.lua prints."""

    requests: int
    duration_s: float
    status_errors: int  # answers that were not 2xx/3xx
    socket_errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def ok(self) -> int:
        return self.requests - self.status_errors

    @property
    def rate(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0


def wrk_argv(
    url: str, duration_s: int, connections: int, rate: float | None, cpu: int
) -> list[str]:
    argv = [
        *pinned(cpu),
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{duration_s}s",
        "--latency",
        "-s",
        str(WRK_SCRIPT),
        url,
    ]
    return argv + (["--", f"{rate:.1f}"] if rate is not None else [])


def start_wrk(
    url: str,
    duration_s: int,
    *,
    connections: int = 64,
    rate: float | None = None,
    cpu: int = LOAD_CPU,
) -> subprocess.Popen[str]:
    """wrk in the background (`-t1 -cN -dS --latency`, pinned to `cpu`, paced at `rate`
    req/s when given); read it with finish_wrk."""
    require_tool("wrk", "apt-get install wrk")
    argv = wrk_argv(url, duration_s, connections, rate, cpu)
    COMMANDS.record(argv)
    return subprocess.Popen(
        argv,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        preexec_fn=_die_with_parent,
    )


def finish_wrk(proc: subprocess.Popen[str], timeout: float, stop_now: bool = False) -> WrkRun:
    """Wait for wrk (or stop it now: on SIGINT wrk ends the run early and still reports)."""
    if stop_now and proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise BenchError(f"wrk did not finish within {timeout:.0f} s") from None
    line = next((ln for ln in out.splitlines() if ln.startswith(WRK_MARK)), None)
    if proc.returncode != 0 or line is None:
        raise BenchError(f"wrk failed ({proc.returncode}): {(err or out).strip()}")
    raw: dict[str, Any] = json.loads(line[len(WRK_MARK) :])
    return WrkRun(
        requests=int(raw["requests"]),
        duration_s=raw["duration_us"] / 1e6,
        status_errors=int(raw["status_errors"]),
        socket_errors=sum(
            int(raw[k]) for k in ("connect_errors", "read_errors", "write_errors", "timeouts")
        ),
        p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
    )


def run_wrk(
    url: str,
    duration_s: int,
    *,
    connections: int = 64,
    rate: float | None = None,
    cpu: int = LOAD_CPU,
) -> WrkRun:
    """One wrk run to its end (see start_wrk)."""
    proc = start_wrk(url, duration_s, connections=connections, rate=rate, cpu=cpu)
    return finish_wrk(proc, timeout=duration_s + 60)


def wrk_version() -> str:
    if shutil.which("wrk") is None:
        return "not installed"
    out = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=10)
    first = (out.stdout or out.stderr).strip().splitlines()
    return first[0].split(" Copyright")[0].removeprefix("wrk ") if first else "unknown"

"""What the machine did while a benchmark ran, read from /proc: the hypervisor's steal,
the load, the CPU share of the server and of everything else on each pinned core, and
peak memory. On this shared 2-core VM a run that other processes disturbed is repeated
(quietest_of), after waiting for an idle moment, within a time budget (Patience).
"""

from __future__ import annotations

import contextlib
import math
import os
import resource
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from loadtests.benchlib import LOAD_CPU, SERVER_CPU, BenchError, can_pin


@dataclass(frozen=True)
class CpuSample:
    total: int
    steal: int


def cpu_sample() -> CpuSample:
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return CpuSample(sum(fields[:8]), fields[7] if len(fields) > 7 else 0)


def steal_percent(before: CpuSample, after: CpuSample) -> float:
    """Share of CPU time the hypervisor took from this VM between two samples."""
    return 100.0 * (after.steal - before.steal) / max(1, after.total - before.total)


def cpu_ticks(cpu: int | None) -> tuple[int, int]:
    """(ticks spent running tasks, all ticks) of one CPU, or of all with None:
    user+nice+system against every field but guest time. Interrupt time is left out of
    "running tasks": the loopback traffic's own softirq work lands there, attributed to
    no process."""
    prefix = "cpu " if cpu is None else f"cpu{cpu} "
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith(prefix):
            fields = [int(x) for x in line.split()[1:]]
            return sum(fields[:3]), sum(fields[:8])
    return 0, 0


def process_cpu_ticks(pid: int) -> int:
    """utime + stime of a process, all its threads; 0 once it is gone."""
    try:
        after_name = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(after_name[11]) + int(after_name[12])


CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


@dataclass
class Conditions:
    """What else went on during a run: the hypervisor's steal (% of the machine's CPU
    time), the 1-minute load average at its end, and per core the share other processes
    took: on the server's CPU (anything but the server) and on the load generator's
    (anything but wrk and this process), since a starved wrk also lowers a figure."""

    steal: float = float("nan")
    load: float = float("nan")
    server_cpu: float = float("nan")  # % of the server's CPU used by the server
    others_cpu: float = float("nan")  # % of the server's CPU used by any other process
    others_load_cpu: float = float("nan")  # % of the load generator's CPU used by others


def _own_and_children_ticks() -> float:
    """CPU ticks of this process plus its children reaped so far (wrk, once finished)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    return seconds * CLOCK_TICKS_PER_S


@contextlib.contextmanager
def conditions(server_pid: int | None = None) -> Iterator[Conditions]:
    """Measure the block. The load generator (wrk, or probes in this process) must run on
    LOAD_CPU and finish inside the block, the server on SERVER_CPU."""
    measured = Conditions()
    before = cpu_sample()
    busy0, total0 = cpu_ticks(SERVER_CPU)
    load_busy0, load_total0 = cpu_ticks(LOAD_CPU)
    ours0 = _own_and_children_ticks()
    server0 = process_cpu_ticks(server_pid) if server_pid else 0
    try:
        yield measured
    finally:
        measured.steal = steal_percent(before, cpu_sample())
        measured.load = load_average()
        busy1, total1 = cpu_ticks(SERVER_CPU)
        load_busy1, load_total1 = cpu_ticks(LOAD_CPU)
        ours = _own_and_children_ticks() - ours0
        if server_pid and total1 > total0 and can_pin():
            used = process_cpu_ticks(server_pid) - server0
            measured.server_cpu = 100.0 * used / (total1 - total0)
            measured.others_cpu = max(0.0, 100.0 * (busy1 - busy0 - used) / (total1 - total0))
            measured.others_load_cpu = max(
                0.0, 100.0 * (load_busy1 - load_busy0 - ours) / (load_total1 - load_total0)
            )


# A run during which other processes took more than this share of the server's CPU, or
# the hypervisor stole more than this share of the machine, measured the neighbours as
# much as the server: it is repeated (perf-baseline.md calls > 10 % steal suspect).
DISTURBED_PCT = 10.0
T = TypeVar("T")


def disturbed(during: Conditions) -> bool:
    return any(  # a NaN (not measured) compares False
        share > DISTURBED_PCT for share in (during.others_cpu, during.others_load_cpu, during.steal)
    )


class Patience:
    """How much time a benchmark may spend on a noisy shared machine: before each run,
    waiting up to `wait_s` for an idle moment (the busy share of all CPUs over one second
    at most DISTURBED_PCT), and repeating a disturbed run up to `retries` times, all
    within `budget_s` in total, so that a busy machine cannot stretch the benchmark
    without bound. Keeps what it spent, for the report."""

    def __init__(self, retries: int = 0, wait_s: float = 0.0, budget_s: float = 0.0) -> None:
        self.retries = retries
        self.wait_s = wait_s
        self.budget_s = budget_s
        self.waited_s = 0.0  # idle-waiting
        self.repeated_s = 0.0  # repeated runs

    def left(self) -> float:
        return self.budget_s - self.waited_s - self.repeated_s

    def wait_quiet(self) -> None:
        """Call only while none of our own processes is working."""
        started = time.monotonic()
        deadline = started + min(self.wait_s, max(0.0, self.left()))
        while time.monotonic() < deadline:
            busy0, total0 = cpu_ticks(None)
            time.sleep(1)
            busy1, total1 = cpu_ticks(None)
            if 100.0 * (busy1 - busy0) / max(1, total1 - total0) <= DISTURBED_PCT:
                break
        self.waited_s += time.monotonic() - started

    def may_repeat(self, tries: int) -> bool:
        return tries <= self.retries and self.left() > 0


def quietest_of(
    attempt: Callable[[], T],
    conditions_of: Callable[[T], Conditions],
    patience: Patience,
    on_retry: Callable[[Conditions], None] = lambda c: None,
) -> tuple[T, list[T]]:
    """Run `attempt`, after waiting for quiet, and repeat it while it was disturbed and
    `patience` allows. Returns the quietest attempt and the ones set aside (callers still
    check those for lost hits: a repeat must never hide one)."""
    patience.wait_quiet()
    tries = [attempt()]
    while disturbed(conditions_of(tries[-1])) and patience.may_repeat(len(tries)):
        on_retry(conditions_of(tries[-1]))
        patience.wait_quiet()
        started = time.monotonic()
        tries.append(attempt())
        patience.repeated_s += time.monotonic() - started

    def noise(t: T) -> float:
        c = conditions_of(t)
        return sum(x for x in (c.others_cpu, c.others_load_cpu, c.steal) if not math.isnan(x))

    best = min(tries, key=noise)
    return best, [t for t in tries if t is not best]


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MiB; NaN once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


@dataclass(frozen=True)
class ChildUsage:
    exit_code: int
    peak_rss_mb: float
    cpu_s: float  # user + system seconds of that process, all its threads


def wait_with_usage(proc: subprocess.Popen[bytes], timeout: float) -> ChildUsage:
    """Wait for a child and return its exit code, peak RSS and CPU time from wait4's
    rusage, which covers the whole life of that one process."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return ChildUsage(
                proc.returncode, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime
            )
        if time.monotonic() > deadline:
            raise BenchError(f"{proc.args!r} did not finish within {timeout:.0f} s")
        time.sleep(0.05)

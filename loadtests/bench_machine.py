"""The machine a benchmark ran on, for the report: CPU, memory, system, Python package
and tool versions, and the fakeboxer commit."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shutil
import subprocess
from pathlib import Path

from loadtests.benchlib import ROOT, wrk_version

PACKAGES = ("duckdb", "starlette", "uvicorn", "httptools", "uvloop", "orjson", "pyarrow", "httpx")


def _first_line_with(path: str, prefix: str) -> str:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip() if ":" in line else line
    except OSError:
        pass
    return "unknown"


def _tool_version(argv: list[str]) -> str:
    if shutil.which(argv[0]) is None and not os.access(f"/usr/sbin/{argv[0]}", os.X_OK):
        return "not installed"
    done = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    text = (done.stderr or done.stdout).strip().splitlines()
    return text[0].split(":", 1)[-1].strip() if text else "unknown"


def git_revision() -> str:
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{rev} (with uncommitted changes)" if dirty else rev or "unknown"


def _os_release_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return platform.system()


def machine_lines(revision_at_start: str = "") -> list[str]:
    flags = _first_line_with("/proc/cpuinfo", "flags")
    virtual = ", virtual machine" if "hypervisor" in flags.split() else ""
    mem_kb = _first_line_with("/proc/meminfo", "MemTotal").split()[0]
    ram = f"{int(mem_kb) / 1024 / 1024:.1f} GiB" if mem_kb.isdigit() else "unknown"
    os_name = _os_release_name()
    packages = []
    for name in PACKAGES:
        try:
            packages.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            packages.append(f"{name} (not installed)")
    return [
        f"CPU: {_first_line_with('/proc/cpuinfo', 'model name')}, {os.cpu_count()} CPUs"
        f"{virtual}; RAM {ram}",
        f"System: {os_name}, kernel {platform.release()}, "
        f"{platform.python_implementation()} {platform.python_version()}",
        "Packages: " + ", ".join(packages),
        f"Tools: wrk {wrk_version()}; nginx {_tool_version(['nginx', '-v'])}",
        f"fakeboxer: commit {_revision_text(revision_at_start, git_revision())}",
    ]


def _revision_text(start: str, end: str) -> str:
    if not start or start == end:
        return end
    return f"{start} at the start, {end} at the end (commits landed during the run)"

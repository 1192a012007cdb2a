"Helpers every benchmark script shares: the machine line of its table, and text slices by size."
from __future__ import annotations
import os, platform


def cpu_name() -> str:
    "CPU model from /proc/cpuinfo (Linux), else platform.processor()."
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"): return line.split(":", 1)[1].strip()
    except OSError: pass
    return platform.processor() or "unknown CPU"


def machine_line(versions: str) -> str:
    "The `- machine:` line of a benchmark table: CPU, cores, OS, Python, then `versions`."
    return (f"- machine: {cpu_name()}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}, {versions}")


def first_mb(texts, mb: float) -> list[str]:
    "The leading texts whose UTF-8 size adds up to `mb` megabytes (1e6 bytes)."
    out, size = [], 0
    for t in texts:
        if size >= mb * 1e6: break
        out.append(t); size += len(t.encode("utf-8"))
    return out

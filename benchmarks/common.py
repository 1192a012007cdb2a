"Helpers every benchmark script shares: the machine line of its table, text slices by size, and the results file."
from __future__ import annotations
import json, os, platform
from pathlib import Path


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


def write_json(path, obj, **kw) -> Path:
    "Write `obj` as indented JSON to `path` atomically, so an interrupted run never leaves half a results file."
    from nlpbook.data import atomic_write
    text = json.dumps(obj, indent=1, **kw)
    return atomic_write(path, lambda tmp: tmp.write_text(text))

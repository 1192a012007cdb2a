"""Appendix B benchmark: what the CUDA appendix costs to build and run on a CPU machine.

Run from the project root:

    .venv/bin/python benchmarks/appB_cuda.py              # builds in fresh temporary caches: cold numbers
    .venv/bin/python benchmarks/appB_cuda.py --repeats 3

Measures, each in a fresh Python process (so nothing is cached in memory):
  - `compile_cuda(vector_ops.cu)` with the machine's nvcc into an empty cache (cold), `--repeats` times;
  - `load_lltm_cpp()` into an empty cache (cold: load_inline compiles and links the extension), once, and then
    `--repeats` times from that cache (cached: load only);
  - one LLTM forward + backward step on the CPU (batch 16, 32 inputs, state 128), Python against C++, the two taking
    turns, median of 5 runs of 50 steps.
The GPU run of the kernels is `pytest -m cuda tests/test_cuda_vector_ops.py` on a machine with a GPU.
Prints a markdown table for BENCHMARKS.md.
"""
from __future__ import annotations
import argparse, datetime, os, statistics, subprocess, sys, tempfile, time

from common import machine_line  # benchmarks/common.py

# Each snippet prints the seconds of the call itself, measured inside the process (imports not counted).
COMPILE = ("import time; from nlpbook.cuda_ext import compile_cuda, cuda_source; t = time.perf_counter(); "
           "compile_cuda(cuda_source('vector_ops.cu')); print(time.perf_counter() - t)")
LLTM = "import time; from nlpbook.cuda_ext import load_lltm_cpp; t = time.perf_counter(); load_lltm_cpp(); print(time.perf_counter() - t)"
STEP = """
import torch, numpy as np, time
from nlpbook.cuda_ext import LLTM
torch.manual_seed(0)
py = LLTM(32, 128); cpp = LLTM(32, 128, impl='cpp'); cpp.load_state_dict(py.state_dict())
x, h, c = (torch.randn(16, k) for k in (32, 128, 128))
t = {'python': [], 'cpp': []}
for r in range(6):
    for name, cell in (('python', py), ('cpp', cpp)):
        t0 = time.perf_counter()
        for _ in range(50):
            nh, nc = cell(x, (h, c)); (nh.sum() + nc.sum()).backward()
        if r: t[name].append((time.perf_counter() - t0) / 50 * 1e6)   # the first round warms up
print(np.median(t['python']), np.median(t['cpp']))
"""


def run(code: str, cache: str) -> float:
    "The seconds that `code`, run in a fresh Python process with NLPBOOK_CACHE=`cache`, prints as its last line."
    r = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env={**os.environ, "NLPBOOK_CACHE": cache})
    return float(r.stdout.split()[-1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args(argv)
    import torch
    from nlpbook.cuda_ext import find_nvcc
    rows = []
    if find_nvcc():
        cold = [run(COMPILE, tempfile.mkdtemp()) for _ in range(args.repeats)]
        rows.append(("compile_cuda(vector_ops.cu), cold", f"{statistics.median(cold):.1f} s", f"median of {args.repeats}; {find_nvcc()}"))
    lltm_cache = tempfile.mkdtemp()
    cold = run(LLTM, lltm_cache)
    warm = [run(LLTM, lltm_cache) for _ in range(args.repeats)]
    rows.append(("load_lltm_cpp(), cold build", f"{cold:.1f} s", "one run: load_inline compiles and links"))
    rows.append(("load_lltm_cpp(), cached", f"{statistics.median(warm):.2f} s", f"median of {args.repeats}"))
    out = subprocess.run([sys.executable, "-c", STEP], check=True, capture_output=True, text=True,
                         env={**os.environ, "NLPBOOK_CACHE": lltm_cache}).stdout.split()
    py_us, cpp_us = map(float, out)
    rows.append(("LLTM step (fwd + bwd), Python", f"{py_us:.0f} µs", "batch 16, input 32, state 128; median of 5 x 50 steps"))
    rows.append(("LLTM step (fwd + bwd), C++", f"{cpp_us:.0f} µs", f"{py_us / cpp_us:.2f}x the Python speed"))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"`python benchmarks/appB_cuda.py --repeats {args.repeats}` ({datetime.date.today().isoformat()}; no GPU on this machine; "
          f"load average {load:.1f} at the end)\n")
    print(machine_line(f"torch {torch.__version__}") + f"; {torch.get_num_threads()} torch threads\n")
    print("| quantity | ours | note |\n|---|---|---|")
    for r in rows: print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()

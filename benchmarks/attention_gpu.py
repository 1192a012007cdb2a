"""GPU benchmark: our Triton FlashAttention against every PyTorch SDPA backend, in TFLOP/s.

Run on a machine with an NVIDIA GPU, from the project root:

    .venv/bin/python benchmarks/attention_gpu.py                    # the full sweep (~10 min on an H100)
    .venv/bin/python benchmarks/attention_gpu.py --dims 64 --seqs 1024 4096 --json $OUT/attn.json

Shapes: B=4, H=16, D in {64, 128}, N = Lq = Lk in 512..16384, bf16, causal and not, forward and
forward+backward. FLOPs = 4*B*H*N^2*D for the forward (two matmuls of 2*N^2*D each per head),
halved for causal; the backward counts 2.5x the forward (five matmuls against two), so
forward+backward = 3.5x. Times are `triton.testing.do_bench` medians (CUDA events, warm-up first),
rotating over enough input sets that they do not all fit in L2. Each SDPA backend (FLASH_ATTENTION,
EFFICIENT_ATTENTION, CUDNN_ATTENTION, MATH) is timed separately through
`torch.nn.attention.sdpa_kernel`; a backend that cannot run a shape (unsupported, or out of memory:
MATH materializes the N x N scores) shows "-". Before timing each shape, our output is checked
against SDPA's (||ours - sdpa|| / ||sdpa|| < 1e-2). The last column block gives our TFLOP/s as a
percentage of this GPU's measured bf16 matmul rate (8192^3 `torch.matmul`, same timing method).
SDPA's causal mask is top-left aligned and ours bottom-right; with Lq = Lk they are the same mask.
"""
from __future__ import annotations
import argparse, datetime, json, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import machine_line  # benchmarks/common.py

BACKENDS = ["FLASH_ATTENTION", "EFFICIENT_ATTENTION", "CUDNN_ATTENTION", "MATH"]


def require_gpu():
    "Exit with one clear message unless a CUDA GPU and compiled (not interpreted) Triton are available."
    try:
        import torch
    except ImportError:
        sys.exit("attention_gpu.py: PyTorch is not installed (pip install 'nlpbook[kernels]').")
    if not torch.cuda.is_available():
        sys.exit("attention_gpu.py: needs an NVIDIA GPU with CUDA; torch.cuda.is_available() is False on this "
                 "machine. Nothing was timed. (The kernels' correctness tests run on the CPU: "
                 "pytest tests/test_kernels_triton.py)")
    if os.environ.get("TRITON_INTERPRET") == "1":
        sys.exit("attention_gpu.py: TRITON_INTERPRET=1 is set, which would time Triton's CPU interpreter; unset it.")
    try:
        import triton  # noqa: F401
    except ImportError:
        sys.exit("attention_gpu.py: Triton is not installed (pip install 'nlpbook[kernels]').")


def flops(b, h, n, d, causal, mode):
    "Attention FLOPs: 4*B*H*N^2*D forward, halved for causal, x3.5 for forward+backward."
    f = 4 * b * h * n * n * d * (0.5 if causal else 1.0)
    return f * (3.5 if mode == "fwd+bwd" else 1.0)


def matmul_tflops(torch, do_bench):
    "Measured bf16 matmul rate (TFLOP/s) of this GPU: median of 8192^3 torch.matmul on random inputs."
    n = 8192
    a, b = (torch.randn(n, n, device="cuda", dtype=torch.bfloat16) for _ in range(2))
    ms = do_bench(lambda: a @ b, warmup=100, rep=500, return_mode="median")
    return 2 * n ** 3 / (ms * 1e-3) / 1e12


def input_sets(torch, b, h, n, d, requires_grad, l2_bytes):
    "Enough independent (q, k, v, dout) sets that cycling through them does not run from L2 alone."
    one = 4 * b * h * n * d * 2
    count = max(1, min(8, -(-3 * l2_bytes // one)))
    g = torch.Generator(device="cuda").manual_seed(n * 131 + d)
    sets = []
    for _ in range(count):
        q, k, v, do = (torch.randn(b, h, n, d, device="cuda", dtype=torch.bfloat16, generator=g) for _ in range(4))
        if requires_grad: q, k, v = (t.requires_grad_() for t in (q, k, v))
        sets.append((q, k, v, do))
    return sets


def timed(torch, do_bench, attn, sets, mode):
    "Median ms of one call of attn (forward, or forward plus backward) cycling over the input sets."
    state = {"i": 0}
    def step():
        q, k, v, do = sets[state["i"] % len(sets)]; state["i"] += 1
        out = attn(q, k, v)
        if mode == "fwd+bwd": torch.autograd.grad(out, (q, k, v), do)
    step(); torch.cuda.synchronize()   # compile / autotune outside the timed region
    return do_bench(step, warmup=25, rep=200, return_mode="median")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--heads", type=int, default=16)
    p.add_argument("--dims", type=int, nargs="+", default=[64, 128])
    p.add_argument("--seqs", type=int, nargs="+", default=[512, 1024, 2048, 4096, 8192, 16384])
    p.add_argument("--modes", nargs="+", default=["fwd", "fwd+bwd"], choices=["fwd", "fwd+bwd"])
    p.add_argument("--backends", nargs="+", default=BACKENDS, choices=BACKENDS)
    p.add_argument("--json", default=None, help="also write every measurement to this JSON file")
    a = p.parse_args(argv)
    require_gpu()

    import torch, triton
    import torch.nn.functional as F
    from torch.nn.attention import sdpa_kernel, SDPBackend
    from triton.testing import do_bench
    from nlpbook.kernels.flash_attention import flash_attention, last_backend

    props = torch.cuda.get_device_properties(0)
    l2 = getattr(props, "L2_cache_size", 50 * 2 ** 20)
    peak = matmul_tflops(torch, do_bench)
    b, h = a.batch, a.heads
    rows = []
    for d in a.dims:
        for n in a.seqs:
            for causal in (False, True):
                # correctness of this shape before any timing: ours against SDPA's default choice
                q, k, v, _ = input_sets(torch, 1, h, n, d, False, 0)[0]
                ours = flash_attention(q, k, v, causal=causal)
                assert last_backend() == "triton", "the Triton kernel did not run"
                ref = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
                err = ((ours.float() - ref.float()).norm() / ref.float().norm()).item()
                if not err < 1e-2:
                    sys.exit(f"attention_gpu.py: ours differs from SDPA at D={d} N={n} causal={causal}: rel err {err:.2e}")
                del q, k, v, ours, ref
                for mode in a.modes:
                    sets = input_sets(torch, b, h, n, d, mode == "fwd+bwd", l2)
                    f = flops(b, h, n, d, causal, mode)
                    row = dict(D=d, N=n, causal=causal, mode=mode, check_rel_err=err)
                    ms = timed(torch, do_bench, lambda q, k, v: flash_attention(q, k, v, causal=causal), sets, mode)
                    row["ours_ms"], row["ours_tflops"] = ms, f / (ms * 1e-3) / 1e12
                    for name in a.backends:
                        try:
                            with sdpa_kernel(getattr(SDPBackend, name)):
                                ms = timed(torch, do_bench, lambda q, k, v: F.scaled_dot_product_attention(
                                    q, k, v, is_causal=causal), sets, mode)
                            row[name] = ms
                        except (RuntimeError, torch.cuda.OutOfMemoryError) as e:   # unsupported or OOM
                            row[name] = None; row[name + "_error"] = str(e).splitlines()[0][:200]
                        torch.cuda.empty_cache()
                    rows.append(row)
                    del sets; torch.cuda.empty_cache()
                    print(json.dumps(row), file=sys.stderr, flush=True)

    versions = f"torch {torch.__version__}, triton {triton.__version__}, CUDA {torch.version.cuda}"
    print(f"## Attention, Triton (ours) vs SDPA backends: B={b}, H={h}, bf16\n")
    print(machine_line(versions))
    print(f"- GPU: {torch.cuda.get_device_name(0)}; measured bf16 matmul (8192^3): {peak:.0f} TFLOP/s")
    print(f"- date: {datetime.date.today()}; command: python {' '.join([sys.argv[0]] + (argv or sys.argv[1:]))}")
    print("- times: triton.testing.do_bench medians; FLOPs 4*B*H*N^2*D (x0.5 causal, x3.5 fwd+bwd)\n")
    short = {"FLASH_ATTENTION": "flash", "EFFICIENT_ATTENTION": "mem-eff", "CUDNN_ATTENTION": "cudnn", "MATH": "math"}
    head = "| D | N | causal | pass | ours ms | ours TFLOP/s | % matmul | " + " | ".join(
        f"ours/{short[n]} speed" for n in a.backends) + " |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for r in rows:
        ratios = [f"{r[n] / r['ours_ms']:.2f}x" if r[n] else "-" for n in a.backends]
        print(f"| {r['D']} | {r['N']} | {'yes' if r['causal'] else 'no'} | {r['mode']} | {r['ours_ms']:.3f} | "
              f"{r['ours_tflops']:.1f} | {100 * r['ours_tflops'] / peak:.0f}% | " + " | ".join(ratios) + " |")
    print("\n(ours/X speed = X's time / our time: above 1x we are faster.)")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(dict(gpu=torch.cuda.get_device_name(0), matmul_tflops=peak, versions=versions, rows=rows), fh, indent=1)


if __name__ == "__main__":
    main()

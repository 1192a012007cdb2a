"""The Triton FlashAttention kernels compiled for a real GPU, at realistic shapes (`-m cuda`).

The checks run in a fresh Python process: `tests/test_kernels_triton.py` imports Triton under its
CPU interpreter at collection time, and a process that did so cannot also compile for the GPU.
Run on a lent GPU with `pytest -m cuda tests/test_kernels_triton_cuda.py`.
"""
import os, subprocess, sys, zlib
import pytest

# (causal, B, H, Lq, Lk, D, dtype, masked); tolerances on ||out - ref|| / ||ref|| against float64.
CASES = [(False, 2, 4, 1024, 1024, 64, "bfloat16", False), (True, 2, 4, 1024, 1024, 128, "bfloat16", False),
         (True, 2, 4, 1000, 1000, 64, "float16", False), (False, 2, 4, 517, 1500, 128, "float16", True),
         (True, 2, 4, 1500, 517, 64, "bfloat16", False), (True, 1, 2, 777, 777, 96, "bfloat16", True),
         (False, 1, 2, 300, 300, 32, "float32", False)]
TOL = {"bfloat16": 1e-2, "float16": 5e-3, "float32": 1e-5}


def check(causal, b, h, lq, lk, d, dtype, masked):
    "One case on the GPU: outputs poisoned, Triton path asserted, out/dq/dk/dv against float64."
    import torch
    import nlpbook.kernels.flash_attention as fa
    from nlpbook.kernels import reference_attention
    fa._fresh = lambda t: t.fill_(float("nan"))
    dt = getattr(torch, dtype)
    g = torch.Generator(device="cuda").manual_seed(zlib.crc32(repr((causal, lq, lk, d, dtype)).encode()))
    q, k, v = (torch.randn(b, h, n, d, device="cuda", generator=g).to(dt).requires_grad_() for n in (lq, lk, lk))
    mask = (torch.rand(b, lk, device="cuda", generator=g) > 0.2) if masked else None
    out = fa.flash_attention(q, k, v, causal=causal, key_padding_mask=mask)
    assert fa.last_backend() == "triton"
    dout = torch.randn(out.shape, device="cuda", generator=g).to(dt)
    grads = torch.autograd.grad(out, (q, k, v), dout)
    q6, k6, v6 = (t.detach().double().requires_grad_() for t in (q, k, v))
    if mask is None and not (causal and lq > lk): want = reference_attention(q6, k6, v6, causal)
    else: want = fa.torch_attention(q6, k6, v6, causal, None, mask)
    wants = torch.autograd.grad(want, (q6, k6, v6), dout.double())
    errs = [((a.double() - w).norm() / w.norm()).item() for a, w in zip((out, *grads), (want, *wants))]
    ok = all(torch.isfinite(t).all() for t in (out, *grads)) and max(errs) < TOL[dtype]
    print(f"{'ok ' if ok else 'BAD'} causal={causal} B={b} H={h} Lq={lq} Lk={lk} D={d} {dtype} mask={masked} "
          f"rel err out/dq/dk/dv = " + " ".join(f"{e:.2e}" for e in errs), flush=True)
    return ok


SPAN_CASES = [(2, 4, 1024, 1024, 64, "bfloat16", 100.3, 32.0), (1, 4, 700, 1500, 128, "float16", 257.6, 64.0)]


def check_span(b, h, lq, lk, d, dtype, span, ramp):
    "Adaptive span on the GPU: out, dq, dk, dv and d(span) against the float64 reference."
    import torch
    import nlpbook.kernels.adaptive_span as asp
    dt = getattr(torch, dtype)
    g = torch.Generator(device="cuda").manual_seed(zlib.crc32(repr((lq, lk, d, dtype, span)).encode()))
    q, k, v = (torch.randn(b, h, n, d, device="cuda", generator=g).to(dt).requires_grad_() for n in (lq, lk, lk))
    z = (span * (1 + torch.arange(h, device="cuda") / h)).requires_grad_()   # a different span per head
    out = asp.adaptive_span_attention(q, k, v, z, ramp)
    assert asp.last_backend() == "triton"
    dout = torch.randn(out.shape, device="cuda", generator=g).to(dt)
    grads = torch.autograd.grad(out, (q, k, v, z), dout)
    q6, k6, v6, z6 = (t.detach().double().requires_grad_() for t in (q, k, v, z))
    want = asp.adaptive_span_reference(q6, k6, v6, z6, ramp)
    wants = torch.autograd.grad(want, (q6, k6, v6, z6), dout.double())
    errs = [((a.double() - w).norm() / w.norm()).item() for a, w in zip((out, *grads), (want, *wants))]
    ok = all(torch.isfinite(t).all() for t in (out, *grads)) and max(errs) < TOL[dtype]
    print(f"{'ok ' if ok else 'BAD'} adaptive span B={b} H={h} Lq={lq} Lk={lk} D={d} {dtype} z={span} R={ramp} "
          f"rel err out/dq/dk/dv/dz = " + " ".join(f"{e:.2e}" for e in errs), flush=True)
    return ok


@pytest.mark.cuda
def test_kernels_on_gpu():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available(): pytest.skip("needs an NVIDIA GPU")
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    r = subprocess.run([sys.executable, __file__], env=env, capture_output=True, text=True, timeout=1800)
    print(r.stdout)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]


if __name__ == "__main__":
    results = [check(*c) for c in CASES] + [check_span(*c) for c in SPAN_CASES]
    sys.exit(0 if all(results) else 1)

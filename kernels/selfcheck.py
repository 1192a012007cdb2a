"""Run the attention kernels on tiny shapes and print their relative errors against float64.

    TRITON_INTERPRET=1 python -m nlpbook.kernels.selfcheck     # no GPU: Triton's CPU interpreter
    python -m nlpbook.kernels.selfcheck                        # on a CUDA GPU

`--check` makes it exit with an error unless every case ran the Triton kernels within 1e-5.

Without a GPU and without `TRITON_INTERPRET=1`, the kernels fall back to PyTorch, and the table's `backend`
column says 'torch': the numbers then check the fallback, not the kernels. (The kernels' own fallback warning
is not repeated here: the column says it, once per line.)
"""
from __future__ import annotations
import sys, warnings
from ..models import require
require("torch", extra="hf", what="nlpbook.kernels.selfcheck")   # else: which extra to install
import torch
from . import reference_attention
from . import flash_attention as fa
from . import adaptive_span as asp

# (kind, causal, B, H, Lq, Lk, D, M) with M the number of persistent-memory slots (0: none)
CASES = [("flash", False, 1, 2, 17, 17, 16, 0), ("flash", True, 1, 2, 33, 33, 32, 0),
         ("flash", True, 1, 1, 33, 40, 16, 5), ("span", True, 1, 2, 40, 40, 16, 0)]


def rel_err(got, want):
    "||got - want|| / ||want||, in float64."
    got, want = got.double(), want.double()
    return ((got - want).norm() / want.norm()).item()


def relative_errors(kind, causal, b, h, lq, lk, d, m=0, dtype=torch.float32, seed=0):
    "Relative errors of out and of every gradient against float64, and the path taken ('triton' or 'torch')."
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    g = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(b, h, n, d, generator=g) for n in (lq, lk, lk))
    extra = [torch.randn(h, m, d, generator=g) for _ in range(2)] if m else []
    if kind == "span": extra = [torch.tensor([5.5, 30.3][:h])]   # not integers: no mask kink on a key
    ins = [t.to(dev, dtype if t.dim() > 1 else torch.float32).requires_grad_() for t in (q, k, v, *extra)]
    with warnings.catch_warnings():   # "using the PyTorch fallback": the `backend` column reports the path taken
        warnings.filterwarnings("ignore", message=r".*using the PyTorch fallback", category=RuntimeWarning)
        if kind == "span": out = asp.adaptive_span_attention(*ins[:3], ins[3], ramp=4.0)
        else: out = fa.flash_attention(*ins[:3], causal=causal, mem_k=ins[3] if m else None, mem_v=ins[4] if m else None)
    backend = (asp if kind == "span" else fa).last_backend()
    dout = torch.randn(out.shape, generator=g).to(dev, dtype)
    grads = torch.autograd.grad(out, ins, dout)
    ins64 = [t.detach().double().requires_grad_() for t in ins]
    if kind == "span": want = asp.adaptive_span_reference(*ins64[:3], ins64[3], ramp=4.0)
    elif m: want = fa.torch_attention(*ins64[:3], causal, None, None, *ins64[3:])   # memory concatenated first
    else: want = reference_attention(*ins64, causal)
    wants = torch.autograd.grad(want, ins64, dout.double())
    names = ["out", "dq", "dk", "dv"] + (["dspan"] if kind == "span" else ["dmem_k", "dmem_v"] if m else [])
    return backend, dict(zip(names, [rel_err(out, want)] + [rel_err(a, w) for a, w in zip(grads, wants)]))


def main(cases=CASES, check=False, tol=1e-5):
    "Print one line per case (shape, path taken, relative errors); with `check`, raise unless every case ran Triton within `tol`."
    bad = []
    for case in cases:
        kind, causal, b, h, lq, lk, d, m = case
        backend, errs = relative_errors(*case)
        shape = f"{kind:5} {'causal' if causal else 'full':6} B{b} H{h} Lq{lq:<3} Lk{lk:<3} D{d:<3} M{m}"
        print(f"{shape}  {backend:6}  " + "  ".join(f"{n} {e:.1e}" for n, e in errs.items()))
        if backend != "triton" or not max(errs.values()) < tol: bad.append(shape.split())
    if check and bad:
        raise AssertionError(f"selfcheck: {len(bad)} case(s) did not run the Triton kernels within {tol:g} of float64: {bad}")


if __name__ == "__main__":
    main(check="--check" in sys.argv[1:])

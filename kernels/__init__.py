"""Triton GPU kernels for attention, installed as `nlpbook.kernels`.

The fused kernels arrive with the Triton issue; until then this package exposes the float64
reference they are tested against, which also serves as the CPU fallback.
"""
__all__ = ["reference_attention"]

def reference_attention(q, k, v, causal=False, scale=None):
    "Plain softmax(QK^T * scale) V in float64: the oracle every kernel is compared with."
    import torch
    scale = q.shape[-1] ** -0.5 if scale is None else scale
    q64, k64, v64 = q.double(), k.double(), v.double()
    scores = q64 @ k64.transpose(-2, -1) * scale              # (..., Lq, Lk)
    if causal:
        lq, lk = scores.shape[-2:]
        keep = torch.ones(lq, lk, dtype=torch.bool, device=q.device).tril(lk - lq)
        scores = scores.masked_fill(~keep, float("-inf"))
    return (scores.softmax(-1) @ v64).to(q.dtype)            # (..., Lq, D)

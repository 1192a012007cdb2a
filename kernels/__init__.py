"""Triton GPU kernels for attention, installed as `nlpbook.kernels`.

- `nlpbook.kernels.flash_attention`: `flash_attention(q, k, v, causal, scale, key_padding_mask, mem_k, mem_v)`,
  FlashAttention-2-style fused forward and backward, with optional persistent-memory keys/values;
- `nlpbook.kernels.adaptive_span`: `adaptive_span_attention(q, k, v, span, ramp)`, the fused
  adaptive-span attention of Sukhbaatar et al. (2019) with a learnable span per head.

They are imported on demand (importing this package does not import Triton: on a CPU machine,
`TRITON_INTERPRET=1` must be set before Triton's first import for the kernels to run interpreted).
This module holds the float64 reference they are tested against, and `interpreter_env`, the one switch for
Triton's interpreter.
"""
import os
from contextlib import contextmanager

__all__ = ["reference_attention", "interpreter_env"]


@contextmanager
def interpreter_env(on: bool = True):
    "Set TRITON_INTERPRET=1 for the duration when `on` (Triton reads it at import and again at launch), then restore it."
    saved = os.environ.get("TRITON_INTERPRET")
    if on: os.environ["TRITON_INTERPRET"] = "1"
    try: yield
    finally:
        if saved is None: os.environ.pop("TRITON_INTERPRET", None)
        else: os.environ["TRITON_INTERPRET"] = saved


def reference_attention(q, k, v, causal=False, scale=None):
    "Plain softmax(QK^T * scale) V in float64: the oracle every kernel is compared with."
    from ..models import require
    require("torch", extra="hf", what="reference_attention")
    import torch
    scale = q.shape[-1] ** -0.5 if scale is None else scale
    q64, k64, v64 = q.double(), k.double(), v.double()
    scores = q64 @ k64.transpose(-2, -1) * scale              # (..., Lq, Lk)
    if causal:
        lq, lk = scores.shape[-2:]
        keep = torch.ones(lq, lk, dtype=torch.bool, device=q.device).tril(lk - lq)
        scores = scores.masked_fill(~keep, float("-inf"))
    return (scores.softmax(-1) @ v64).to(q.dtype)            # (..., Lq, D)

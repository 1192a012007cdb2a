"""FlashAttention-2-style fused attention in Triton (forward and backward).

`flash_attention(q, k, v, causal=False, scale=None, key_padding_mask=None, mem_k=None, mem_v=None)`
takes (B, H, L, D) tensors and returns softmax(Q K^T * scale) V without ever writing the (Lq, Lk)
score matrix:

- forward: one program per (query block, batch*head); it walks the key/value blocks keeping a
  running row maximum and row sum (online softmax in base 2, log2(e) folded into the scale),
  accumulates in float32 and saves the per-row log-sum-exp (base 2) for the backward pass;
- backward: `delta = rowsum(dO * O)`, then one kernel per key block for dK/dV (walking the query
  blocks) and one per query block for dQ, both recomputing P from the saved log-sum-exp.

Causal masking is bottom-right aligned like `reference_attention`: query i of Lq sees the keys
j <= i + Lk - Lq. Any lengths work (partial blocks are masked), Lq may differ from Lk, and a head
dimension that is not a power of two is padded (masked) to the next one. A query row that sees no
key at all (causal with Lq > Lk, or a key-padding mask that drops every key) has no softmax; it
returns zeros and gets zero gradients, where the plain formula would give NaN.

Persistent memory (Sukhbaatar et al. 2019, "Augmenting Self-attention with Persistent Memory"):
`mem_k`, `mem_v` of shape (H, M, D) (shared by the batch) or (B, H, M, D) are M extra key/value
vectors that every query attends to, whatever the causal and key-padding masks say, with no
positional term. The kernels visit them as extra key blocks before the sequence's (forward, dQ);
their gradients come from the dK/dV kernel run over the memory with no mask (summed over the batch
when shared). With memory no query row is empty.

Off CUDA, the Triton kernels run only under Triton's interpreter: `TRITON_INTERPRET=1` must be set
before the process first imports Triton (Triton builds its own library functions then); the kernels
built that way set it again while they run (`interpreter_on`), as Triton reads it at launch too.
Otherwise the call falls back, with a one-time warning, to the PyTorch path `torch_attention`, which
autograd differentiates. Under the interpreter a bf16 `tl.dot` is computed in float32 (Triton 3.6's
interpreter multiplies bf16 bit patterns as integers).
"""
from __future__ import annotations
import os, warnings
from ..models import require
require("torch", extra="hf", what="nlpbook.kernels.flash_attention (Chapter 7)")   # else: which extra to install
import torch
from . import interpreter_env

__all__ = ["flash_attention", "torch_attention", "FlashAttention", "last_backend", "interpreting"]

try:
    import triton
    import triton.language as tl
    HAS_TRITON = True
except ImportError:  # the `kernels` extra is not installed: only the PyTorch path exists
    triton = tl = None
    HAS_TRITON = False

LOG2E = 1.4426950408889634
MAX_HEAD_DIM = 256
_INTERPRET_AT_IMPORT = os.environ.get("TRITON_INTERPRET") == "1"
_state = {"backend": None, "warned": False}


def _fresh(t):
    "Hook on every buffer the kernels fill (out, lse, delta, dq, dk, dv): identity; tests swap in a NaN poison."
    return t


def interpreting() -> bool:
    "Whether Triton's CPU interpreter was on when this module was imported (the kernels are built then)."
    return _INTERPRET_AT_IMPORT


def interpreter_on():
    "Keep TRITON_INTERPRET=1 while kernels built interpreted run: Triton reads it at launch too (its lazy imports assert it)."
    return interpreter_env(_INTERPRET_AT_IMPORT)


def last_backend() -> str | None:
    "Which path the last `flash_attention` call took: 'triton' or 'torch' (None before any call)."
    return _state["backend"]


def _with_memory(q, k, v, causal, key_padding_mask, mem_k, mem_v):
    "Prepend the memory to k and v; returns (k, v, keep) with keep (B, 1, Lq, M + Lk): memory always visible."
    B, _, lq, _ = q.shape
    lk = k.shape[2]
    keep = torch.ones(lq, lk, dtype=torch.bool, device=q.device)
    if causal: keep = keep.tril(lk - lq)
    keep = keep.expand(B, 1, lq, lk)
    if key_padding_mask is not None: keep = keep & key_padding_mask[:, None, None, :].to(q.device)
    if mem_k is None: return k, v, keep
    mk, mv = (m.to(q.device).expand(B, *m.shape[-3:]) for m in (mem_k, mem_v))
    mem_keep = torch.ones(B, 1, lq, mk.shape[2], dtype=torch.bool, device=q.device)
    return torch.cat([mk, k], 2), torch.cat([mv, v], 2), torch.cat([mem_keep, keep], -1)


def torch_attention(q, k, v, causal=False, scale=None, key_padding_mask=None, mem_k=None, mem_v=None):
    "Attention in plain PyTorch, in the inputs' dtype, with the kernel's masking rules: the fallback and the masked oracle."
    scale = q.shape[-1] ** -0.5 if scale is None else scale
    k, v, keep = _with_memory(q, k, v, causal, key_padding_mask, mem_k, mem_v)
    scores = (q @ k.transpose(-2, -1)).float() * scale if q.dtype != torch.float64 else q @ k.transpose(-2, -1) * scale
    scores = scores.masked_fill(~keep, float("-inf"))
    # Rows with no visible key: zeros (and zero gradient) instead of softmax's NaN.
    empty = ~keep.any(-1, keepdim=True)
    probs = scores.masked_fill(empty, 0.0).softmax(-1).masked_fill(empty, 0.0)
    return (probs.to(v.dtype) @ v).to(q.dtype)


def _fix_interpreter_index():
    """Let Triton 3.6's interpreter use run-time loop bounds under NumPy >= 2.4.

    The interpreter holds every scalar as a 1-element array and turns it into a Python int with
    `int(array)`, which NumPy 2.4 made an error ("only 0-dimensional arrays can be converted to
    Python scalars"), so `for i in range(0, n, BLOCK)` with a run-time `n` fails. We wrap its
    tensor-patching hook so `__index__` reads the single element instead."""
    from triton.runtime import interpreter as itp
    original = itp._patch_lang_tensor
    if getattr(original, "_nlpbook_fixed", False): return
    def patched(tensor, scope):
        original(tensor, scope)
        scope.set_attr(tensor, "__index__", lambda self: int(self.handle.data.reshape(-1)[0]))
    patched._nlpbook_fixed = True
    itp._patch_lang_tensor = patched


if HAS_TRITON:
    if _INTERPRET_AT_IMPORT: _fix_interpreter_index()

    def _configs(tuned):
        "Autotune configs: one small one under the interpreter (autotuning there is slow), a sweep on the GPU."
        if _INTERPRET_AT_IMPORT:
            return [triton.Config({"BLOCK_M": 16, "BLOCK_N": 16}, num_warps=1, num_stages=1)]
        return [triton.Config({"BLOCK_M": bm, "BLOCK_N": bn}, num_warps=w, num_stages=s)
                for bm, bn, w, s in tuned]

    _FWD = [(128, 64, 8, 3), (128, 64, 4, 3), (128, 32, 4, 3), (64, 64, 4, 3), (64, 32, 4, 2), (128, 128, 8, 2)]
    _BWD = [(64, 64, 4, 2), (32, 64, 4, 2), (64, 32, 4, 2), (64, 64, 8, 2), (32, 128, 8, 2), (128, 64, 8, 2)]
    _KEY = ["Lq", "Lk", "BLOCK_D", "CAUSAL", "HAS_MASK"]
    _KEY_MEM = _KEY + ["M", "HAS_MEM"]

    @triton.jit
    def _dot(a, b, DOT_PREC: tl.constexpr, UPCAST: tl.constexpr):
        "a @ b with float32 accumulation; UPCAST (interpreter + bf16 only) multiplies in float32, as NumPy has no bf16 matmul."
        if UPCAST:
            return tl.dot(a.to(tl.float32), b.to(tl.float32), input_precision="ieee")
        return tl.dot(a, b, input_precision=DOT_PREC)

    @triton.jit
    def _tile_mask(row_ok, offs_d, D, EVEN_D: tl.constexpr):
        "Load/store mask of a (rows, BLOCK_D) tile; with EVEN_D (D == BLOCK_D) it depends on the row only, so loads stay vectorized."
        mask = row_ok[:, None]
        if not EVEN_D:
            mask = mask & (offs_d[None, :] < D)
        return mask

    @triton.jit
    def _keep(rows, cols, Lq, Lk, kpm_ptr, CAUSAL: tl.constexpr, HAS_MASK: tl.constexpr):
        "Which (row, col) score entries are real and visible: in range, causal, and kept by the padding mask."
        keep = (rows[:, None] < Lq) & (cols[None, :] < Lk)
        if CAUSAL:
            keep = keep & (cols[None, :] <= rows[:, None] + (Lk - Lq))
        if HAS_MASK:
            kp = tl.load(kpm_ptr + cols, mask=cols < Lk, other=0)
            keep = keep & (kp[None, :] != 0)
        return keep

    @triton.jit
    def _online_softmax_step(q, k, v, keep, m_i, l_i, acc, qk_scale, DOT_PREC: tl.constexpr, UPCAST: tl.constexpr):
        "Fold one key/value block into the running max m_i, sum l_i and output acc (base 2; masked scores are -inf)."
        qk = _dot(q, tl.trans(k), DOT_PREC, UPCAST) * qk_scale
        qk = tl.where(keep, qk, float("-inf"))
        m_new = tl.maximum(m_i, tl.max(qk, 1))
        m_safe = tl.where(m_new == float("-inf"), 0.0, m_new)  # no -inf - -inf = NaN on empty rows
        alpha = tl.math.exp2(m_i - m_safe)
        p = tl.math.exp2(qk - m_safe[:, None])
        l_i = l_i * alpha + tl.sum(p, 1)
        acc = acc * alpha[:, None] + _dot(p.to(v.dtype), v, DOT_PREC, UPCAST)
        return m_new, l_i, acc

    @triton.jit
    def _dq_step(q, do, k, v, keep, lse, delta, qk_scale, DOT_PREC: tl.constexpr, UPCAST: tl.constexpr):
        "One key block's share of dQ / scale: dS K, with P recomputed from the saved log-sum-exp."
        qk = _dot(q, tl.trans(k), DOT_PREC, UPCAST) * qk_scale
        p = tl.where(keep, tl.math.exp2(qk - lse[:, None]), 0.0)
        dp = _dot(do, tl.trans(v), DOT_PREC, UPCAST)
        ds = p * (dp - delta[:, None])
        return _dot(ds.to(k.dtype), k, DOT_PREC, UPCAST)

    @triton.autotune(configs=_configs(_FWD), key=_KEY_MEM)
    @triton.jit
    def _fwd_kernel(Q, K, V, O, LSE, KPM, MK, MV, qk_scale,
                    sqb, sqh, sqm, skb, skh, skn, svb, svh, svn, sob, soh, som,
                    H, Lq, Lk, D, M,
                    CAUSAL: tl.constexpr, HAS_MASK: tl.constexpr, HAS_MEM: tl.constexpr, BLOCK_D: tl.constexpr, EVEN_D: tl.constexpr,
                    DOT_PREC: tl.constexpr, UPCAST: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
        start_m = tl.program_id(0) * BLOCK_M
        bh = tl.program_id(1)
        b, h = bh // H, bh % H
        rows = start_m + tl.arange(0, BLOCK_M)
        offs_n = tl.arange(0, BLOCK_N)
        offs_d = tl.arange(0, BLOCK_D)
        q = tl.load(Q + b * sqb + h * sqh + rows[:, None] * sqm + offs_d[None, :],
                    mask=_tile_mask(rows < Lq, offs_d, D, EVEN_D), other=0.0)
        kpm = KPM + b * Lk
        m_i = tl.full([BLOCK_M], float("-inf"), tl.float32)
        l_i = tl.zeros([BLOCK_M], tl.float32)
        acc = tl.zeros([BLOCK_M, BLOCK_D], tl.float32)
        if HAS_MEM:  # persistent memory first: contiguous (B*H, M, D), seen by every row, no mask
            for start_n in range(0, M, BLOCK_N):
                cols = start_n + offs_n
                kv_mask = _tile_mask(cols < M, offs_d, D, EVEN_D)
                mem_off = bh * M * D + cols[:, None] * D + offs_d[None, :]
                k = tl.load(MK + mem_off, mask=kv_mask, other=0.0)
                v = tl.load(MV + mem_off, mask=kv_mask, other=0.0)
                keep = (rows[:, None] < Lq) & (cols[None, :] < M)
                m_i, l_i, acc = _online_softmax_step(q, k, v, keep, m_i, l_i, acc, qk_scale, DOT_PREC, UPCAST)
        hi = Lk
        if CAUSAL:  # key blocks entirely right of the last row's diagonal are never visited
            hi = start_m + BLOCK_M + Lk - Lq
            if hi > Lk:  # scalar if, not tl.minimum: the interpreter's loop bound must be a 0-d value
                hi = Lk
        for start_n in range(0, hi, BLOCK_N):
            cols = start_n + offs_n
            kv_mask = _tile_mask(cols < Lk, offs_d, D, EVEN_D)
            k = tl.load(K + b * skb + h * skh + cols[:, None] * skn + offs_d[None, :], mask=kv_mask, other=0.0)
            v = tl.load(V + b * svb + h * svh + cols[:, None] * svn + offs_d[None, :], mask=kv_mask, other=0.0)
            keep = _keep(rows, cols, Lq, Lk, kpm, CAUSAL, HAS_MASK)
            m_i, l_i, acc = _online_softmax_step(q, k, v, keep, m_i, l_i, acc, qk_scale, DOT_PREC, UPCAST)
        empty = l_i == 0.0
        out = acc / tl.where(empty, 1.0, l_i)[:, None]
        # +inf log-sum-exp makes every recomputed P of an empty row exactly 0 in the backward pass.
        lse = tl.where(empty, float("inf"), m_i + tl.math.log2(tl.where(empty, 1.0, l_i)))
        tl.store(O + b * sob + h * soh + rows[:, None] * som + offs_d[None, :], out.to(O.dtype.element_ty),
                 mask=_tile_mask(rows < Lq, offs_d, D, EVEN_D))
        tl.store(LSE + bh * Lq + rows, lse, mask=rows < Lq)

    @triton.jit
    def _bwd_preprocess(O, DO, DELTA, som, sdom, Lq, D, BLOCK_M: tl.constexpr, BLOCK_D: tl.constexpr):
        "delta_i = sum_d dO_id * O_id, in float32 (O and dO are contiguous (B*H, Lq, D) here)."
        rows = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)
        bh = tl.program_id(1)
        offs_d = tl.arange(0, BLOCK_D)
        mask = (rows[:, None] < Lq) & (offs_d[None, :] < D)
        o = tl.load(O + bh * Lq * som + rows[:, None] * som + offs_d[None, :], mask=mask, other=0.0).to(tl.float32)
        do = tl.load(DO + bh * Lq * sdom + rows[:, None] * sdom + offs_d[None, :], mask=mask, other=0.0).to(tl.float32)
        tl.store(DELTA + bh * Lq + rows, tl.sum(o * do, 1), mask=rows < Lq)

    @triton.autotune(configs=_configs(_BWD), key=_KEY)
    @triton.jit
    def _bwd_dkdv_kernel(Q, K, V, DO, LSE, DELTA, DK, DV, KPM, qk_scale, sm_scale,
                         H, Lq, Lk, D,
                         CAUSAL: tl.constexpr, HAS_MASK: tl.constexpr, BLOCK_D: tl.constexpr, EVEN_D: tl.constexpr,
                         DOT_PREC: tl.constexpr, UPCAST: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
        "One program per key block: dV = P^T dO, dK = scale * dS^T Q, summed over the query blocks."
        start_n = tl.program_id(0) * BLOCK_N
        bh = tl.program_id(1)
        b = bh // H
        cols = start_n + tl.arange(0, BLOCK_N)
        offs_m = tl.arange(0, BLOCK_M)
        offs_d = tl.arange(0, BLOCK_D)
        kv_mask = _tile_mask(cols < Lk, offs_d, D, EVEN_D)
        kv_off = bh * Lk * D + cols[:, None] * D + offs_d[None, :]
        k = tl.load(K + kv_off, mask=kv_mask, other=0.0)
        v = tl.load(V + kv_off, mask=kv_mask, other=0.0)
        kpm = KPM + b * Lk
        dk = tl.zeros([BLOCK_N, BLOCK_D], tl.float32)
        dv = tl.zeros([BLOCK_N, BLOCK_D], tl.float32)
        lo = 0
        if CAUSAL:  # query rows above this block's first diagonal see none of its keys
            lo = start_n - (Lk - Lq)
            if lo < 0:
                lo = 0
            lo = lo // BLOCK_M * BLOCK_M
        for start_m in range(lo, Lq, BLOCK_M):
            rows = start_m + offs_m
            q_mask = _tile_mask(rows < Lq, offs_d, D, EVEN_D)
            q_off = bh * Lq * D + rows[:, None] * D + offs_d[None, :]
            q = tl.load(Q + q_off, mask=q_mask, other=0.0)
            do = tl.load(DO + q_off, mask=q_mask, other=0.0)
            lse = tl.load(LSE + bh * Lq + rows, mask=rows < Lq, other=float("inf"))
            delta = tl.load(DELTA + bh * Lq + rows, mask=rows < Lq, other=0.0)
            qkT = _dot(k, tl.trans(q), DOT_PREC, UPCAST) * qk_scale           # (BLOCK_N, BLOCK_M)
            keepT = tl.trans(_keep(rows, cols, Lq, Lk, kpm, CAUSAL, HAS_MASK))
            pT = tl.where(keepT, tl.math.exp2(qkT - lse[None, :]), 0.0)
            dv += _dot(pT.to(do.dtype), do, DOT_PREC, UPCAST)
            dpT = _dot(v, tl.trans(do), DOT_PREC, UPCAST)
            dsT = pT * (dpT - delta[None, :])
            dk += _dot(dsT.to(q.dtype), q, DOT_PREC, UPCAST)
        tl.store(DK + kv_off, (dk * sm_scale).to(DK.dtype.element_ty), mask=kv_mask)
        tl.store(DV + kv_off, dv.to(DV.dtype.element_ty), mask=kv_mask)

    @triton.autotune(configs=_configs(_BWD), key=_KEY_MEM)
    @triton.jit
    def _bwd_dq_kernel(Q, K, V, DO, LSE, DELTA, DQ, KPM, MK, MV, qk_scale, sm_scale,
                       H, Lq, Lk, D, M,
                       CAUSAL: tl.constexpr, HAS_MASK: tl.constexpr, HAS_MEM: tl.constexpr, BLOCK_D: tl.constexpr, EVEN_D: tl.constexpr,
                       DOT_PREC: tl.constexpr, UPCAST: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
        "One program per query block: dQ = scale * dS K, with P recomputed from the saved log-sum-exp."
        start_m = tl.program_id(0) * BLOCK_M
        bh = tl.program_id(1)
        b = bh // H
        rows = start_m + tl.arange(0, BLOCK_M)
        offs_n = tl.arange(0, BLOCK_N)
        offs_d = tl.arange(0, BLOCK_D)
        q_mask = _tile_mask(rows < Lq, offs_d, D, EVEN_D)
        q_off = bh * Lq * D + rows[:, None] * D + offs_d[None, :]
        q = tl.load(Q + q_off, mask=q_mask, other=0.0)
        do = tl.load(DO + q_off, mask=q_mask, other=0.0)
        lse = tl.load(LSE + bh * Lq + rows, mask=rows < Lq, other=float("inf"))
        delta = tl.load(DELTA + bh * Lq + rows, mask=rows < Lq, other=0.0)
        kpm = KPM + b * Lk
        dq = tl.zeros([BLOCK_M, BLOCK_D], tl.float32)
        if HAS_MEM:  # persistent memory: every row sees it
            for start_n in range(0, M, BLOCK_N):
                cols = start_n + offs_n
                kv_mask = _tile_mask(cols < M, offs_d, D, EVEN_D)
                mem_off = bh * M * D + cols[:, None] * D + offs_d[None, :]
                k = tl.load(MK + mem_off, mask=kv_mask, other=0.0)
                v = tl.load(MV + mem_off, mask=kv_mask, other=0.0)
                keep = (rows[:, None] < Lq) & (cols[None, :] < M)
                dq += _dq_step(q, do, k, v, keep, lse, delta, qk_scale, DOT_PREC, UPCAST)
        hi = Lk
        if CAUSAL:
            hi = start_m + BLOCK_M + Lk - Lq
            if hi > Lk:  # scalar if, not tl.minimum: the interpreter's loop bound must be a 0-d value
                hi = Lk
        for start_n in range(0, hi, BLOCK_N):
            cols = start_n + offs_n
            kv_mask = _tile_mask(cols < Lk, offs_d, D, EVEN_D)
            kv_off = bh * Lk * D + cols[:, None] * D + offs_d[None, :]
            k = tl.load(K + kv_off, mask=kv_mask, other=0.0)
            v = tl.load(V + kv_off, mask=kv_mask, other=0.0)
            keep = _keep(rows, cols, Lq, Lk, kpm, CAUSAL, HAS_MASK)
            dq += _dq_step(q, do, k, v, keep, lse, delta, qk_scale, DOT_PREC, UPCAST)
        tl.store(DQ + q_off, (dq * sm_scale).to(DQ.dtype.element_ty), mask=q_mask)


def _check(q, k, v, key_padding_mask, mem_k=None, mem_v=None):
    "Validate shapes and dtypes; one clear error naming the argument and the fix."
    for name, t in (("q", q), ("k", k), ("v", v)):
        if t.dim() != 4: raise ValueError(f"flash_attention: `{name}` must be (B, H, L, D), got shape {tuple(t.shape)}")
    if q.dtype not in (torch.float16, torch.bfloat16, torch.float32) or k.dtype != q.dtype or v.dtype != q.dtype:
        raise ValueError(f"flash_attention: q, k, v must share one dtype among float16/bfloat16/float32, got {q.dtype}, {k.dtype}, {v.dtype}")
    B, H, _, D = q.shape
    if k.shape != v.shape or k.shape[0] != B or k.shape[1] != H or k.shape[3] != D:
        raise ValueError(f"flash_attention: k and v must be (B, H, Lk, D) matching q's B, H, D; got q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)}")
    if D > MAX_HEAD_DIM: raise ValueError(f"flash_attention: head dim {D} > {MAX_HEAD_DIM} is not supported; split heads")
    if key_padding_mask is not None and (key_padding_mask.dtype != torch.bool or tuple(key_padding_mask.shape) != (B, k.shape[2])):
        raise ValueError(f"flash_attention: `key_padding_mask` must be a bool tensor (B, Lk) = ({B}, {k.shape[2]}) "
                         f"with True = keep, got {key_padding_mask.dtype} {tuple(key_padding_mask.shape)}")
    if (mem_k is None) != (mem_v is None):
        raise ValueError("flash_attention: pass both `mem_k` and `mem_v` (persistent memory keys and values) or neither")
    if mem_k is not None:
        shapes = (tuple(mem_k.shape), tuple(mem_v.shape))
        ok = (mem_k.shape == mem_v.shape and mem_k.dim() in (3, 4) and mem_k.shape[-3] == H and mem_k.shape[-1] == D
              and mem_k.shape[-2] >= 1 and (mem_k.dim() == 3 or mem_k.shape[0] == B))
        if not ok:
            raise ValueError(f"flash_attention: `mem_k` and `mem_v` must both be (H, M, D) = ({H}, M, {D}) or (B, H, M, D) "
                             f"= ({B}, {H}, M, {D}) with M >= 1, got {shapes[0]} and {shapes[1]}")
        if mem_k.dtype != q.dtype or mem_v.dtype != q.dtype:
            raise ValueError(f"flash_attention: `mem_k`/`mem_v` must have q's dtype {q.dtype}, got {mem_k.dtype}, {mem_v.dtype}")


def _prep(key_padding_mask, q):
    "The padding mask as int8 on q's device (or a dummy pointer), and the constexprs set by q's dtype and head dim."
    kpm = q if key_padding_mask is None else key_padding_mask.to(device=q.device, dtype=torch.int8).contiguous()
    prec = "ieee" if q.dtype == torch.float32 else "tf32"  # fp32 inputs get true fp32 dots, not tf32
    # Triton 3.6's interpreter computes a bf16 tl.dot on the raw bits (garbage): multiply in fp32 there.
    D = q.shape[-1]
    return kpm, dict(DOT_PREC=prec, UPCAST=_INTERPRET_AT_IMPORT and q.dtype == torch.bfloat16,
                     EVEN_D=D == max(16, triton.next_power_of_2(D)))


def _memory(q, mem_k, mem_v):
    "The memory as contiguous (B, H, M, D) tensors (expanded over the batch when shared) and M; (q, q, 0) without."
    if mem_k is None: return q, q, 0
    B = q.shape[0]
    mk, mv = (m.expand(B, *m.shape[-3:]).contiguous() for m in (mem_k, mem_v))
    return mk, mv, mk.shape[2]


@interpreter_on()
def _fwd(q, k, v, causal, scale, key_padding_mask, mem_k=None, mem_v=None):
    "Launch the forward kernel: returns (out, lse) with lse (B*H, Lq) in base 2 (over memory and sequence keys)."
    B, H, Lq, D = q.shape
    Lk = k.shape[2]
    o = _fresh(torch.empty_like(q))
    lse = _fresh(torch.empty(B * H, Lq, device=q.device, dtype=torch.float32))
    kpm, dots = _prep(key_padding_mask, q)
    mk, mv, M = _memory(q, mem_k, mem_v)
    grid = lambda META: (triton.cdiv(Lq, META["BLOCK_M"]), B * H)
    _fwd_kernel[grid](q, k, v, o, lse, kpm, mk, mv, scale * LOG2E,
                      *q.stride()[:3], *k.stride()[:3], *v.stride()[:3], *o.stride()[:3],
                      H, Lq, Lk, D, M, CAUSAL=causal, HAS_MASK=key_padding_mask is not None, HAS_MEM=M > 0,
                      BLOCK_D=max(16, triton.next_power_of_2(D)), **dots)
    return o, lse


@interpreter_on()
def _bwd(do, q, k, v, o, lse, causal, scale, key_padding_mask, mem_k=None, mem_v=None):
    "Launch the backward kernels: returns (dq, dk, dv, dmem_k, dmem_v), the last two None without memory."
    B, H, Lq, D = q.shape
    Lk = k.shape[2]
    BLOCK_D = max(16, triton.next_power_of_2(D))
    delta = _fresh(torch.empty_like(lse))
    _bwd_preprocess[(triton.cdiv(Lq, 64), B * H)](o, do, delta, D, D, Lq, D, BLOCK_M=64, BLOCK_D=BLOCK_D)
    dq, dk, dv = (_fresh(torch.empty_like(t)) for t in (q, k, v))
    kpm, dots = _prep(key_padding_mask, q)
    mk, mv, M = _memory(q, mem_k, mem_v)
    common = dict(CAUSAL=causal, HAS_MASK=key_padding_mask is not None, BLOCK_D=BLOCK_D, **dots)
    _bwd_dkdv_kernel[lambda META: (triton.cdiv(Lk, META["BLOCK_N"]), B * H)](
        q, k, v, do, lse, delta, dk, dv, kpm, scale * LOG2E, scale, H, Lq, Lk, D, **common)
    _bwd_dq_kernel[lambda META: (triton.cdiv(Lq, META["BLOCK_M"]), B * H)](
        q, k, v, do, lse, delta, dq, kpm, mk, mv, scale * LOG2E, scale, H, Lq, Lk, D, M, HAS_MEM=M > 0, **common)
    if M == 0: return dq, dk, dv, None, None
    # Memory keys are ordinary keys that no mask hides: the same dK/dV kernel, with the full-row lse and delta.
    dmk, dmv = _fresh(torch.empty_like(mk)), _fresh(torch.empty_like(mv))
    _bwd_dkdv_kernel[lambda META: (triton.cdiv(M, META["BLOCK_N"]), B * H)](
        q, mk, mv, do, lse, delta, dmk, dmv, q, scale * LOG2E, scale, H, Lq, M, D,
        CAUSAL=False, HAS_MASK=False, BLOCK_D=BLOCK_D, **dots)
    if mem_k.dim() == 3: dmk, dmv = dmk.sum(0), dmv.sum(0)   # shared by the batch: gradients add up
    return dq, dk, dv, dmk.to(mem_k.dtype), dmv.to(mem_v.dtype)


class FlashAttention(torch.autograd.Function):
    "Autograd wrapper of the Triton kernels: saves q, k, v, out and the row log-sum-exp."

    @staticmethod
    def forward(ctx, q, k, v, causal, scale, key_padding_mask, mem_k=None, mem_v=None):
        q, k, v = q.contiguous(), k.contiguous(), v.contiguous()
        o, lse = _fwd(q, k, v, causal, scale, key_padding_mask, mem_k, mem_v)
        ctx.save_for_backward(q, k, v, o, lse, mem_k, mem_v)
        ctx.causal, ctx.scale, ctx.key_padding_mask = causal, scale, key_padding_mask
        return o

    @staticmethod
    def backward(ctx, do):
        q, k, v, o, lse, mem_k, mem_v = ctx.saved_tensors
        dq, dk, dv, dmk, dmv = _bwd(do.contiguous(), q, k, v, o, lse, ctx.causal, ctx.scale, ctx.key_padding_mask,
                                    mem_k, mem_v)
        return dq, dk, dv, None, None, None, dmk, dmv


if HAS_TRITON:
    # The same kernels as torch.library custom ops, so torch.compile sees one opaque node with a
    # known output shape (register_fake) and a registered backward instead of tracing into Triton.
    @torch.library.custom_op("nlpbook::flash_attention_fwd", mutates_args=())
    def _op_fwd(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool, scale: float,
                key_padding_mask: torch.Tensor | None, mem_k: torch.Tensor | None = None,
                mem_v: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        return _fwd(q.contiguous(), k.contiguous(), v.contiguous(), causal, scale, key_padding_mask, mem_k, mem_v)

    @_op_fwd.register_fake
    def _(q, k, v, causal, scale, key_padding_mask, mem_k=None, mem_v=None):
        return torch.empty_like(q), q.new_empty(q.shape[0] * q.shape[1], q.shape[2], dtype=torch.float32)

    @torch.library.custom_op("nlpbook::flash_attention_bwd", mutates_args=())
    def _op_bwd(do: torch.Tensor, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, o: torch.Tensor,
                lse: torch.Tensor, causal: bool, scale: float, key_padding_mask: torch.Tensor | None,
                mem_k: torch.Tensor | None = None, mem_v: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        dq, dk, dv, dmk, dmv = _bwd(do.contiguous(), q.contiguous(), k.contiguous(), v.contiguous(), o, lse,
                                    causal, scale, key_padding_mask, mem_k, mem_v)
        if dmk is None: dmk, dmv = q.new_empty(0), q.new_empty(0)   # a custom op returns tensors, none aliased
        return dq, dk, dv, dmk, dmv

    @_op_bwd.register_fake
    def _(do, q, k, v, o, lse, causal, scale, key_padding_mask, mem_k=None, mem_v=None):
        dm = (q.new_empty(0), q.new_empty(0)) if mem_k is None else (torch.empty_like(mem_k), torch.empty_like(mem_v))
        return torch.empty_like(q), torch.empty_like(k), torch.empty_like(v), *dm

    def _op_setup(ctx, inputs, output):
        q, k, v, causal, scale, key_padding_mask, mem_k, mem_v = inputs
        ctx.has_mem = mem_k is not None
        ctx.save_for_backward(q, k, v, *output, *((mem_k, mem_v) if ctx.has_mem else ()))
        ctx.causal, ctx.scale, ctx.key_padding_mask = causal, scale, key_padding_mask

    def _op_backward(ctx, do, dlse):
        q, k, v, o, lse, *mem = ctx.saved_tensors
        dq, dk, dv, dmk, dmv = _op_bwd(do, q, k, v, o, lse, ctx.causal, ctx.scale, ctx.key_padding_mask, *mem)
        return (dq, dk, dv, None, None, None) + ((dmk, dmv) if ctx.has_mem else (None, None))

    _op_fwd.register_autograd(_op_backward, setup_context=_op_setup)


def _fallback_reason(q) -> str | None:
    "Why the Triton kernels cannot run on these inputs (None when they can)."
    if not HAS_TRITON: return "triton is not installed (pip install 'nlpbook[kernels]')"
    if q.is_cuda and not _INTERPRET_AT_IMPORT: return None
    if not q.is_cuda and _INTERPRET_AT_IMPORT: return None
    if q.is_cuda: return "the kernels were built for Triton's CPU interpreter (TRITON_INTERPRET=1 at import) but got CUDA tensors"
    return (f"inputs are on {q.device.type}, not CUDA, and TRITON_INTERPRET=1 was not set before importing "
            "nlpbook.kernels.flash_attention")


def flash_attention(q, k, v, causal=False, scale=None, key_padding_mask=None, mem_k=None, mem_v=None):
    "Fused softmax(Q K^T * scale) V for (B, H, L, D) tensors; causal is bottom-right aligned; key_padding_mask (B, Lk) bool, True = keep; mem_k/mem_v (H or B,H, M, D) persistent memory every query sees."
    _check(q, k, v, key_padding_mask, mem_k, mem_v)
    mem = (mem_k, mem_v)
    scale = q.shape[-1] ** -0.5 if scale is None else float(scale)
    reason = _fallback_reason(q)
    if torch.compiler.is_compiling():  # no warnings or state under tracing: the custom op, or the PyTorch path
        if reason is not None: return torch_attention(q, k, v, causal, scale, key_padding_mask, *mem)
        return torch.ops.nlpbook.flash_attention_fwd(q, k, v, causal, scale, key_padding_mask, *mem)[0]
    if reason is not None:
        if not _state["warned"]:
            warnings.warn(f"flash_attention: using the PyTorch fallback (not the Triton kernel) because {reason}.",
                          RuntimeWarning, stacklevel=2)
            _state["warned"] = True
        _state["backend"] = "torch"
        return torch_attention(q, k, v, causal, scale, key_padding_mask, *mem)
    _state["backend"] = "triton"
    return FlashAttention.apply(q, k, v, causal, scale, key_padding_mask, *mem)

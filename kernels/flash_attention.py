"""FlashAttention-2-style fused attention in Triton (forward and backward).

`flash_attention(q, k, v, causal=False, scale=None, key_padding_mask=None)` takes (B, H, L, D)
tensors and returns softmax(Q K^T * scale) V without ever writing the (Lq, Lk) score matrix:

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

Off CUDA, the Triton kernels run only under Triton's interpreter: `TRITON_INTERPRET=1` must be set
before the process first imports Triton (Triton builds its own library functions then) and stay set
while the kernels run. Otherwise the call falls back, with a one-time warning, to the PyTorch path
`torch_attention`, which autograd differentiates. Under the interpreter a bf16 `tl.dot` is computed
in float32 (Triton 3.6's interpreter multiplies bf16 bit patterns as integers).
"""
from __future__ import annotations
import os, warnings
import torch

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


def last_backend() -> str | None:
    "Which path the last `flash_attention` call took: 'triton' or 'torch' (None before any call)."
    return _state["backend"]


def torch_attention(q, k, v, causal=False, scale=None, key_padding_mask=None):
    "Attention in plain PyTorch, in the inputs' dtype, with the kernel's masking rules: the fallback and the masked oracle."
    scale = q.shape[-1] ** -0.5 if scale is None else scale
    scores = (q @ k.transpose(-2, -1)).float() * scale if q.dtype != torch.float64 else q @ k.transpose(-2, -1) * scale
    lq, lk = scores.shape[-2:]
    keep = torch.ones(lq, lk, dtype=torch.bool, device=q.device)
    if causal: keep = keep.tril(lk - lq)
    keep = keep.expand(q.shape[0], 1, lq, lk)
    if key_padding_mask is not None: keep = keep & key_padding_mask[:, None, None, :].to(q.device)
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

    @triton.autotune(configs=_configs(_FWD), key=_KEY)
    @triton.jit
    def _fwd_kernel(Q, K, V, O, LSE, KPM, qk_scale,
                    sqb, sqh, sqm, skb, skh, skn, svb, svh, svn, sob, soh, som,
                    H, Lq, Lk, D,
                    CAUSAL: tl.constexpr, HAS_MASK: tl.constexpr, BLOCK_D: tl.constexpr, EVEN_D: tl.constexpr,
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
        hi = Lk
        if CAUSAL:  # key blocks entirely right of the last row's diagonal are never visited
            hi = start_m + BLOCK_M + Lk - Lq
            if hi > Lk:  # scalar if, not tl.minimum: the interpreter's loop bound must be a 0-d value
                hi = Lk
        for start_n in range(0, hi, BLOCK_N):
            cols = start_n + offs_n
            kv_mask = _tile_mask(cols < Lk, offs_d, D, EVEN_D)
            k = tl.load(K + b * skb + h * skh + cols[:, None] * skn + offs_d[None, :], mask=kv_mask, other=0.0)
            qk = _dot(q, tl.trans(k), DOT_PREC, UPCAST) * qk_scale
            qk = tl.where(_keep(rows, cols, Lq, Lk, kpm, CAUSAL, HAS_MASK), qk, float("-inf"))
            m_new = tl.maximum(m_i, tl.max(qk, 1))
            m_safe = tl.where(m_new == float("-inf"), 0.0, m_new)  # no -inf - -inf = NaN on empty rows
            alpha = tl.math.exp2(m_i - m_safe)
            p = tl.math.exp2(qk - m_safe[:, None])
            l_i = l_i * alpha + tl.sum(p, 1)
            v = tl.load(V + b * svb + h * svh + cols[:, None] * svn + offs_d[None, :], mask=kv_mask, other=0.0)
            acc = acc * alpha[:, None] + _dot(p.to(v.dtype), v, DOT_PREC, UPCAST)
            m_i = m_new
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

    @triton.autotune(configs=_configs(_BWD), key=_KEY)
    @triton.jit
    def _bwd_dq_kernel(Q, K, V, DO, LSE, DELTA, DQ, KPM, qk_scale, sm_scale,
                       H, Lq, Lk, D,
                       CAUSAL: tl.constexpr, HAS_MASK: tl.constexpr, BLOCK_D: tl.constexpr, EVEN_D: tl.constexpr,
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
            qk = _dot(q, tl.trans(k), DOT_PREC, UPCAST) * qk_scale
            p = tl.where(_keep(rows, cols, Lq, Lk, kpm, CAUSAL, HAS_MASK), tl.math.exp2(qk - lse[:, None]), 0.0)
            dp = _dot(do, tl.trans(v), DOT_PREC, UPCAST)
            ds = p * (dp - delta[:, None])
            dq += _dot(ds.to(k.dtype), k, DOT_PREC, UPCAST)
        tl.store(DQ + q_off, (dq * sm_scale).to(DQ.dtype.element_ty), mask=q_mask)


def _check(q, k, v, key_padding_mask):
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


def _prep(key_padding_mask, q):
    "The padding mask as int8 on q's device (or a dummy pointer), and the constexprs set by q's dtype and head dim."
    kpm = q if key_padding_mask is None else key_padding_mask.to(device=q.device, dtype=torch.int8).contiguous()
    prec = "ieee" if q.dtype == torch.float32 else "tf32"  # fp32 inputs get true fp32 dots, not tf32
    # Triton 3.6's interpreter computes a bf16 tl.dot on the raw bits (garbage): multiply in fp32 there.
    D = q.shape[-1]
    return kpm, dict(DOT_PREC=prec, UPCAST=_INTERPRET_AT_IMPORT and q.dtype == torch.bfloat16,
                     EVEN_D=D == max(16, triton.next_power_of_2(D)))


def _fwd(q, k, v, causal, scale, key_padding_mask):
    "Launch the forward kernel: returns (out, lse) with lse (B*H, Lq) in base 2."
    B, H, Lq, D = q.shape
    Lk = k.shape[2]
    o = _fresh(torch.empty_like(q))
    lse = _fresh(torch.empty(B * H, Lq, device=q.device, dtype=torch.float32))
    kpm, dots = _prep(key_padding_mask, q)
    grid = lambda META: (triton.cdiv(Lq, META["BLOCK_M"]), B * H)
    _fwd_kernel[grid](q, k, v, o, lse, kpm, scale * LOG2E,
                      *q.stride()[:3], *k.stride()[:3], *v.stride()[:3], *o.stride()[:3],
                      H, Lq, Lk, D, CAUSAL=causal, HAS_MASK=key_padding_mask is not None,
                      BLOCK_D=max(16, triton.next_power_of_2(D)), **dots)
    return o, lse


def _bwd(do, q, k, v, o, lse, causal, scale, key_padding_mask):
    "Launch the three backward kernels: returns (dq, dk, dv)."
    B, H, Lq, D = q.shape
    Lk = k.shape[2]
    BLOCK_D = max(16, triton.next_power_of_2(D))
    delta = _fresh(torch.empty_like(lse))
    _bwd_preprocess[(triton.cdiv(Lq, 64), B * H)](o, do, delta, D, D, Lq, D, BLOCK_M=64, BLOCK_D=BLOCK_D)
    dq, dk, dv = (_fresh(torch.empty_like(t)) for t in (q, k, v))
    kpm, dots = _prep(key_padding_mask, q)
    common = dict(CAUSAL=causal, HAS_MASK=key_padding_mask is not None, BLOCK_D=BLOCK_D, **dots)
    _bwd_dkdv_kernel[lambda META: (triton.cdiv(Lk, META["BLOCK_N"]), B * H)](
        q, k, v, do, lse, delta, dk, dv, kpm, scale * LOG2E, scale, H, Lq, Lk, D, **common)
    _bwd_dq_kernel[lambda META: (triton.cdiv(Lq, META["BLOCK_M"]), B * H)](
        q, k, v, do, lse, delta, dq, kpm, scale * LOG2E, scale, H, Lq, Lk, D, **common)
    return dq, dk, dv


class FlashAttention(torch.autograd.Function):
    "Autograd wrapper of the Triton kernels: saves q, k, v, out and the row log-sum-exp."

    @staticmethod
    def forward(ctx, q, k, v, causal, scale, key_padding_mask):
        q, k, v = q.contiguous(), k.contiguous(), v.contiguous()
        o, lse = _fwd(q, k, v, causal, scale, key_padding_mask)
        ctx.save_for_backward(q, k, v, o, lse)
        ctx.causal, ctx.scale, ctx.key_padding_mask = causal, scale, key_padding_mask
        return o

    @staticmethod
    def backward(ctx, do):
        q, k, v, o, lse = ctx.saved_tensors
        dq, dk, dv = _bwd(do.contiguous(), q, k, v, o, lse, ctx.causal, ctx.scale, ctx.key_padding_mask)
        return dq, dk, dv, None, None, None


if HAS_TRITON:
    # The same kernels as torch.library custom ops, so torch.compile sees one opaque node with a
    # known output shape (register_fake) and a registered backward instead of tracing into Triton.
    @torch.library.custom_op("nlpbook::flash_attention_fwd", mutates_args=())
    def _op_fwd(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool, scale: float,
                key_padding_mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        return _fwd(q.contiguous(), k.contiguous(), v.contiguous(), causal, scale, key_padding_mask)

    @_op_fwd.register_fake
    def _(q, k, v, causal, scale, key_padding_mask):
        return torch.empty_like(q), q.new_empty(q.shape[0] * q.shape[1], q.shape[2], dtype=torch.float32)

    @torch.library.custom_op("nlpbook::flash_attention_bwd", mutates_args=())
    def _op_bwd(do: torch.Tensor, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, o: torch.Tensor,
                lse: torch.Tensor, causal: bool, scale: float,
                key_padding_mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return _bwd(do.contiguous(), q.contiguous(), k.contiguous(), v.contiguous(), o, lse, causal, scale, key_padding_mask)

    @_op_bwd.register_fake
    def _(do, q, k, v, o, lse, causal, scale, key_padding_mask):
        return torch.empty_like(q), torch.empty_like(k), torch.empty_like(v)

    def _op_setup(ctx, inputs, output):
        q, k, v, causal, scale, key_padding_mask = inputs
        ctx.save_for_backward(q, k, v, *output)
        ctx.causal, ctx.scale, ctx.key_padding_mask = causal, scale, key_padding_mask

    def _op_backward(ctx, do, dlse):
        q, k, v, o, lse = ctx.saved_tensors
        dq, dk, dv = _op_bwd(do, q, k, v, o, lse, ctx.causal, ctx.scale, ctx.key_padding_mask)
        return dq, dk, dv, None, None, None

    _op_fwd.register_autograd(_op_backward, setup_context=_op_setup)


def _fallback_reason(q) -> str | None:
    "Why the Triton kernels cannot run on these inputs (None when they can)."
    if not HAS_TRITON: return "triton is not installed (pip install 'nlpbook[kernels]')"
    if q.is_cuda and not _INTERPRET_AT_IMPORT: return None
    if not q.is_cuda and _INTERPRET_AT_IMPORT: return None
    if q.is_cuda: return "the kernels were built for Triton's CPU interpreter (TRITON_INTERPRET=1 at import) but got CUDA tensors"
    return (f"inputs are on {q.device.type}, not CUDA, and TRITON_INTERPRET=1 was not set before importing "
            "nlpbook.kernels.flash_attention")


def flash_attention(q, k, v, causal=False, scale=None, key_padding_mask=None):
    "Fused softmax(Q K^T * scale) V for (B, H, L, D) tensors; causal is bottom-right aligned; key_padding_mask (B, Lk) bool, True = keep."
    _check(q, k, v, key_padding_mask)
    scale = q.shape[-1] ** -0.5 if scale is None else float(scale)
    reason = _fallback_reason(q)
    if torch.compiler.is_compiling():  # no warnings or state under tracing: the custom op, or the PyTorch path
        if reason is not None: return torch_attention(q, k, v, causal, scale, key_padding_mask)
        return torch.ops.nlpbook.flash_attention_fwd(q, k, v, causal, scale, key_padding_mask)[0]
    if reason is not None:
        if not _state["warned"]:
            warnings.warn(f"flash_attention: using the PyTorch fallback (not the Triton kernel) because {reason}.",
                          RuntimeWarning, stacklevel=2)
            _state["warned"] = True
        _state["backend"] = "torch"
        return torch_attention(q, k, v, causal, scale, key_padding_mask)
    _state["backend"] = "triton"
    return FlashAttention.apply(q, k, v, causal, scale, key_padding_mask)

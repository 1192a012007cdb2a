"""Fused adaptive-span attention (Sukhbaatar et al., 2019, "Adaptive Attention Span in Transformers").

Causal attention in which head h only looks back a learnable distance: the weight of key j for
query i is multiplied by the soft mask

    m_z(x) = clamp((R + z_h - x) / R, 0, 1),   x = i + (Lk - Lq) - j   (distance, bottom-right aligned)

before normalizing, a_ij = m(x_ij) exp(s_ij) / sum_k m(x_ik) exp(s_ik), so the span z_h gets a
gradient through the ramp of width R. Key blocks entirely farther than z + R from every query of a
block are never loaded (forward, dQ) and query blocks that cannot see a key block are skipped (dK/dV),
so the cost grows with the span, not with the sequence length.

`adaptive_span_attention(q, k, v, span, ramp=32.0, scale=None)` takes (B, H, L, D) tensors with
Lq <= Lk and `span` (H,) in tokens (clamped at 0; learnable); it returns (B, H, Lq, D) and gives
gradients for q, k, v and span. Backward: the usual FlashAttention-2 recomputation from the saved
log-sum-exp, plus dL/dz_h = (1/R) sum over the ramp of u_ij (dP_ij - delta_i), u_ij = exp(s_ij)/sum_k
m_ik exp(s_ik), with delta_i re-summed in float32 (per-block partial sums, added on the host:
deterministic). It shares the Triton
set-up (interpreter switch, fallback rule, autotune configs) with `flash_attention`.
"""
from __future__ import annotations
import warnings
from ..models import require
require("torch", extra="hf", what="nlpbook.kernels.adaptive_span (Chapter 7)")   # else: which extra to install
import torch
from . import flash_attention as _fa

__all__ = ["adaptive_span_attention", "adaptive_span_reference", "AdaptiveSpanAttention"]
_state = {"backend": None, "warned": False}


def last_backend() -> str | None:
    "Which path the last `adaptive_span_attention` call took: 'triton' or 'torch'."
    return _state["backend"]


def adaptive_span_reference(q, k, v, span, ramp=32.0, scale=None, dtype=torch.float64):
    "Adaptive-span attention in plain PyTorch (float64 by default): the oracle and the CPU fallback; differentiable in span."
    scale = q.shape[-1] ** -0.5 if scale is None else scale
    q_, k_, v_, z = q.to(dtype), k.to(dtype), v.to(dtype), span.to(dtype).clamp(min=0)
    lq, lk = q.shape[-2], k.shape[-2]
    x = (torch.arange(lq, device=q.device)[:, None] + (lk - lq) - torch.arange(lk, device=q.device)[None, :]).to(dtype)
    m = ((ramp + z[:, None, None] - x) / ramp).clamp(0, 1) * (x >= 0)       # (H, Lq, Lk)
    s = q_ @ k_.transpose(-2, -1) * scale
    s = s - s.masked_fill(x < 0, float("-inf")).amax(-1, keepdim=True).detach()
    w = m * s.masked_fill(x < 0, float("-inf")).exp()
    return ((w / w.sum(-1, keepdim=True)) @ v_).to(q.dtype)


if _fa.HAS_TRITON:
    import triton
    import triton.language as tl
    _dot, _tile_mask = _fa._dot, _fa._tile_mask

    @triton.jit
    def _span_weight(rows, cols, Lq, Lk, z, ramp):
        "m_z(i - j) for a (rows, cols) tile (0 outside the causal range or the tensor), and where it is on the ramp."
        x = (rows[:, None] + (Lk - Lq) - cols[None, :]).to(tl.float32)
        m = tl.minimum(tl.maximum((ramp + z - x) / ramp, 0.0), 1.0)
        valid = (rows[:, None] < Lq) & (cols[None, :] < Lk) & (x >= 0)
        m = tl.where(valid, m, 0.0)
        return m, valid & (m > 0.0) & (m < 1.0)

    @triton.autotune(configs=_fa._configs(_fa._FWD), key=["Lq", "Lk", "BLOCK_D"])
    @triton.jit
    def _as_fwd(Q, K, V, O, LSE, Z, qk_scale, ramp, H, Lq, Lk, D,
                BLOCK_D: tl.constexpr, EVEN_D: tl.constexpr, DOT_PREC: tl.constexpr, UPCAST: tl.constexpr,
                BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
        start_m = tl.program_id(0) * BLOCK_M
        bh = tl.program_id(1)
        z = tl.load(Z + bh % H)
        rows = start_m + tl.arange(0, BLOCK_M)
        offs_n = tl.arange(0, BLOCK_N)
        offs_d = tl.arange(0, BLOCK_D)
        q_mask = _tile_mask(rows < Lq, offs_d, D, EVEN_D)
        q_off = bh * Lq * D + rows[:, None] * D + offs_d[None, :]
        q = tl.load(Q + q_off, mask=q_mask, other=0.0)
        m_i = tl.full([BLOCK_M], float("-inf"), tl.float32)
        l_i = tl.zeros([BLOCK_M], tl.float32)
        acc = tl.zeros([BLOCK_M, BLOCK_D], tl.float32)
        hi = start_m + BLOCK_M + Lk - Lq
        if hi > Lk:
            hi = Lk
        # keys j <= start_m + (Lk - Lq) - z - R have m = 0 for every row of this block: skip their blocks
        lo = (start_m + (Lk - Lq) - z - ramp).to(tl.int32)
        if lo < 0:
            lo = 0
        lo = lo // BLOCK_N * BLOCK_N
        for start_n in range(lo, hi, BLOCK_N):
            cols = start_n + offs_n
            kv_mask = _tile_mask(cols < Lk, offs_d, D, EVEN_D)
            kv_off = bh * Lk * D + cols[:, None] * D + offs_d[None, :]
            k = tl.load(K + kv_off, mask=kv_mask, other=0.0)
            qk = _dot(q, tl.trans(k), DOT_PREC, UPCAST) * qk_scale
            w, on_ramp = _span_weight(rows, cols, Lq, Lk, z, ramp)
            qk = tl.where(w > 0.0, qk, float("-inf"))
            m_new = tl.maximum(m_i, tl.max(qk, 1))
            m_safe = tl.where(m_new == float("-inf"), 0.0, m_new)
            alpha = tl.math.exp2(m_i - m_safe)
            p = tl.where(w > 0.0, w * tl.math.exp2(qk - m_safe[:, None]), 0.0)
            l_i = l_i * alpha + tl.sum(p, 1)
            v = tl.load(V + kv_off, mask=kv_mask, other=0.0)
            acc = acc * alpha[:, None] + _dot(p.to(v.dtype), v, DOT_PREC, UPCAST)
            m_i = m_new
        l_safe = tl.where(l_i == 0.0, 1.0, l_i)   # only padding rows (i >= Lq) have no key
        tl.store(O + q_off, (acc / l_safe[:, None]).to(O.dtype.element_ty), mask=q_mask)
        tl.store(LSE + bh * Lq + rows, m_i + tl.math.log2(l_safe), mask=rows < Lq)

    @triton.autotune(configs=_fa._configs(_fa._BWD), key=["Lq", "Lk", "BLOCK_D"])
    @triton.jit
    def _as_bwd_dkdv(Q, K, V, DO, LSE, DELTA, DK, DV, Z, qk_scale, sm_scale, ramp, H, Lq, Lk, D,
                     BLOCK_D: tl.constexpr, EVEN_D: tl.constexpr, DOT_PREC: tl.constexpr, UPCAST: tl.constexpr,
                     BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
        start_n = tl.program_id(0) * BLOCK_N
        bh = tl.program_id(1)
        z = tl.load(Z + bh % H)
        cols = start_n + tl.arange(0, BLOCK_N)
        offs_m = tl.arange(0, BLOCK_M)
        offs_d = tl.arange(0, BLOCK_D)
        kv_mask = _tile_mask(cols < Lk, offs_d, D, EVEN_D)
        kv_off = bh * Lk * D + cols[:, None] * D + offs_d[None, :]
        k = tl.load(K + kv_off, mask=kv_mask, other=0.0)
        v = tl.load(V + kv_off, mask=kv_mask, other=0.0)
        dk = tl.zeros([BLOCK_N, BLOCK_D], tl.float32)
        dv = tl.zeros([BLOCK_N, BLOCK_D], tl.float32)
        # rows that see a key of this block: i >= j - (Lk - Lq) (causal) and i < j - (Lk - Lq) + z + R (span)
        lo = start_n - (Lk - Lq)
        if lo < 0:
            lo = 0
        lo = lo // BLOCK_M * BLOCK_M
        hi = (start_n + BLOCK_N - 1 - (Lk - Lq) + z + ramp).to(tl.int32) + 1
        if hi > Lq:
            hi = Lq
        for start_m in range(lo, hi, BLOCK_M):
            rows = start_m + offs_m
            q_mask = _tile_mask(rows < Lq, offs_d, D, EVEN_D)
            q_off = bh * Lq * D + rows[:, None] * D + offs_d[None, :]
            q = tl.load(Q + q_off, mask=q_mask, other=0.0)
            do = tl.load(DO + q_off, mask=q_mask, other=0.0)
            lse = tl.load(LSE + bh * Lq + rows, mask=rows < Lq, other=0.0)
            delta = tl.load(DELTA + bh * Lq + rows, mask=rows < Lq, other=0.0)
            qkT = _dot(k, tl.trans(q), DOT_PREC, UPCAST) * qk_scale
            w, on_ramp = _span_weight(rows, cols, Lq, Lk, z, ramp)
            wT = tl.trans(w)
            pT = tl.where(wT > 0.0, wT * tl.math.exp2(qkT - lse[None, :]), 0.0)
            dv += _dot(pT.to(do.dtype), do, DOT_PREC, UPCAST)
            dpT = _dot(v, tl.trans(do), DOT_PREC, UPCAST)
            dsT = pT * (dpT - delta[None, :])
            dk += _dot(dsT.to(q.dtype), q, DOT_PREC, UPCAST)
        tl.store(DK + kv_off, (dk * sm_scale).to(DK.dtype.element_ty), mask=kv_mask)
        tl.store(DV + kv_off, dv.to(DV.dtype.element_ty), mask=kv_mask)

    @triton.autotune(configs=_fa._configs(_fa._BWD), key=["Lq", "Lk", "BLOCK_D"])
    @triton.jit
    def _as_bwd_dq_dz(Q, K, V, DO, LSE, DELTA, DQ, DZP, Z, qk_scale, sm_scale, ramp, H, Lq, Lk, D,
                      BLOCK_D: tl.constexpr, EVEN_D: tl.constexpr, DOT_PREC: tl.constexpr, UPCAST: tl.constexpr,
                      BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
        pid_m = tl.program_id(0)
        start_m = pid_m * BLOCK_M
        bh = tl.program_id(1)
        z = tl.load(Z + bh % H)
        rows = start_m + tl.arange(0, BLOCK_M)
        offs_n = tl.arange(0, BLOCK_N)
        offs_d = tl.arange(0, BLOCK_D)
        q_mask = _tile_mask(rows < Lq, offs_d, D, EVEN_D)
        q_off = bh * Lq * D + rows[:, None] * D + offs_d[None, :]
        q = tl.load(Q + q_off, mask=q_mask, other=0.0)
        do = tl.load(DO + q_off, mask=q_mask, other=0.0)
        lse = tl.load(LSE + bh * Lq + rows, mask=rows < Lq, other=0.0)
        delta = tl.load(DELTA + bh * Lq + rows, mask=rows < Lq, other=0.0)
        dq = tl.zeros([BLOCK_M, BLOCK_D], tl.float32)
        # dL/dz_i = (1/R) sum_ramp u (dP - delta_i) = (1/R)(sum_ramp u dP - delta_i sum_ramp u), with delta_i
        # re-summed here as sum_j P dP in float32: the delta from the rounded (bf16) output loses too
        # much to the cancellation in this difference.
        ramp_udp = tl.zeros([BLOCK_M], tl.float32)
        ramp_u = tl.zeros([BLOCK_M], tl.float32)
        delta32 = tl.zeros([BLOCK_M], tl.float32)
        hi = start_m + BLOCK_M + Lk - Lq
        if hi > Lk:
            hi = Lk
        lo = (start_m + (Lk - Lq) - z - ramp).to(tl.int32)
        if lo < 0:
            lo = 0
        lo = lo // BLOCK_N * BLOCK_N
        for start_n in range(lo, hi, BLOCK_N):
            cols = start_n + offs_n
            kv_mask = _tile_mask(cols < Lk, offs_d, D, EVEN_D)
            kv_off = bh * Lk * D + cols[:, None] * D + offs_d[None, :]
            k = tl.load(K + kv_off, mask=kv_mask, other=0.0)
            v = tl.load(V + kv_off, mask=kv_mask, other=0.0)
            qk = _dot(q, tl.trans(k), DOT_PREC, UPCAST) * qk_scale
            w, on_ramp = _span_weight(rows, cols, Lq, Lk, z, ramp)
            u = tl.where(w > 0.0, tl.math.exp2(qk - lse[:, None]), 0.0)    # exp(s) / sum m exp(s)
            dp = _dot(do, tl.trans(v), DOT_PREC, UPCAST)
            ds = w * u * (dp - delta[:, None])
            dq += _dot(ds.to(k.dtype), k, DOT_PREC, UPCAST)
            ramp_udp += tl.sum(tl.where(on_ramp, u * dp, 0.0), 1)
            ramp_u += tl.sum(tl.where(on_ramp, u, 0.0), 1)
            delta32 += tl.sum(w * u * dp, 1)
        tl.store(DQ + q_off, (dq * sm_scale).to(DQ.dtype.element_ty), mask=q_mask)
        dz = tl.where(rows < Lq, ramp_udp - delta32 * ramp_u, 0.0)
        tl.store(DZP + bh * tl.num_programs(0) + pid_m, tl.sum(dz, 0) / ramp)


def _check(q, k, v, span, ramp):
    "Validate shapes and dtypes; one clear error naming the argument and the fix."
    _fa._check(q, k, v, None)
    if q.shape[2] > k.shape[2]:
        raise ValueError(f"adaptive_span_attention: needs Lq <= Lk (every query sees itself), got Lq={q.shape[2]} Lk={k.shape[2]}")
    if span.shape != (q.shape[1],) or not span.is_floating_point():
        raise ValueError(f"adaptive_span_attention: `span` must be a float tensor (H,) = ({q.shape[1]},), got {span.dtype} {tuple(span.shape)}")
    if not ramp > 0: raise ValueError(f"adaptive_span_attention: `ramp` (R) must be > 0, got {ramp}")


class AdaptiveSpanAttention(torch.autograd.Function):
    "Autograd wrapper of the adaptive-span kernels: gradients for q, k, v and the span z."

    @staticmethod
    @_fa.interpreter_on()
    def forward(ctx, q, k, v, span, ramp, scale):
        q, k, v = q.contiguous(), k.contiguous(), v.contiguous()
        B, H, Lq, D = q.shape
        Lk = k.shape[2]
        z = span.detach().float().contiguous()
        o = _fa._fresh(torch.empty_like(q))
        lse = _fa._fresh(torch.empty(B * H, Lq, device=q.device, dtype=torch.float32))
        dots = _fa._prep(None, q)[1]
        BLOCK_D = max(16, triton.next_power_of_2(D))
        _as_fwd[lambda META: (triton.cdiv(Lq, META["BLOCK_M"]), B * H)](
            q, k, v, o, lse, z, scale * _fa.LOG2E, float(ramp), H, Lq, Lk, D, BLOCK_D=BLOCK_D, **dots)
        ctx.save_for_backward(q, k, v, o, lse, z)
        ctx.ramp, ctx.scale, ctx.span_dtype = float(ramp), scale, span.dtype
        return o

    @staticmethod
    @_fa.interpreter_on()
    def backward(ctx, do):
        q, k, v, o, lse, z = ctx.saved_tensors
        do = do.contiguous()
        B, H, Lq, D = q.shape
        Lk = k.shape[2]
        BLOCK_D = max(16, triton.next_power_of_2(D))
        dots = _fa._prep(None, q)[1]
        delta = _fa._fresh(torch.empty_like(lse))
        _fa._bwd_preprocess[(triton.cdiv(Lq, 64), B * H)](o, do, delta, D, D, Lq, D, BLOCK_M=64, BLOCK_D=BLOCK_D)
        dq, dk, dv = (_fa._fresh(torch.empty_like(t)) for t in (q, k, v))
        args = dict(BLOCK_D=BLOCK_D, **dots)
        _as_bwd_dkdv[lambda META: (triton.cdiv(Lk, META["BLOCK_N"]), B * H)](
            q, k, v, do, lse, delta, dk, dv, z, ctx.scale * _fa.LOG2E, ctx.scale, ctx.ramp, H, Lq, Lk, D, **args)
        # one partial dz per (batch*head, query block); the buffer is sized for the smallest BLOCK_M
        dzp = torch.zeros(B * H, triton.cdiv(Lq, 16), device=q.device, dtype=torch.float32)
        def grid(META):
            nm = triton.cdiv(Lq, META["BLOCK_M"])
            dzp.zero_()   # the autotuner may launch several configs: keep only the last one's partials
            return (nm, B * H)
        _as_bwd_dq_dz[grid](q, k, v, do, lse, delta, dq, dzp, z, ctx.scale * _fa.LOG2E, ctx.scale, ctx.ramp,
                            H, Lq, Lk, D, **args)
        dz = dzp.view(B, H, -1).sum((0, 2)).to(ctx.span_dtype)
        return dq, dk, dv, dz, None, None


def adaptive_span_attention(q, k, v, span, ramp=32.0, scale=None):
    "Causal attention whose head h sees back about span[h] tokens through a soft ramp of width `ramp`; span is learnable."
    _check(q, k, v, span, ramp)
    scale = q.shape[-1] ** -0.5 if scale is None else float(scale)
    z = span.clamp(min=0)
    reason = _fa._fallback_reason(q)
    if reason is not None:
        if not _state["warned"]:
            warnings.warn(f"adaptive_span_attention: using the PyTorch fallback (not the Triton kernel) because {reason}.",
                          RuntimeWarning, stacklevel=2)
            _state["warned"] = True
        _state["backend"] = "torch"
        return _fa_torch_path(q, k, v, z, ramp, scale)
    _state["backend"] = "triton"
    return AdaptiveSpanAttention.apply(q, k, v, z, ramp, scale)


def _fa_torch_path(q, k, v, z, ramp, scale):
    "The fallback: the reference formula computed in float32 (float64 stays float64)."
    return adaptive_span_reference(q, k, v, z, ramp, scale, dtype=torch.float32)

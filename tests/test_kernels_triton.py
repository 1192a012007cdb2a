"""The Triton attention kernels (FlashAttention, adaptive span), run on the CPU by Triton's
interpreter, against float64 oracles.

`TRITON_INTERPRET=1` must be set before the process first imports Triton (Triton builds its own
library functions, and `@triton.jit` builds ours, as interpreted ones at import) and while the
kernels run. So this module sets it around its imports and restores it, and each test sets it again
(monkeypatch) for its own duration only: nothing else in the session runs interpreted. If another
module imported Triton first, the tests run in a fresh interpreter process instead (the last test).
Every test proves the Triton path ran: the PyTorch fallbacks are replaced by functions that raise,
and `last_backend()` must say 'triton'. Every buffer a kernel writes is NaN-poisoned first.
"""
import importlib, os, subprocess, sys, zlib
import pytest

# Triton decorates its own library functions (tl.zeros, ...) when it is imported, so the variable
# must be set before the first `import triton` of the process, not only before our module's.
_fa_loaded = sys.modules.get("nlpbook.kernels.flash_attention")
_TRITON_ALREADY_LOADED = ("triton" in sys.modules and os.environ.get("TRITON_INTERPRET") != "1"
                          and not (_fa_loaded is not None and _fa_loaded.interpreting()))  # e.g. by nbs/07b, interpreted
from nlpbook.kernels import interpreter_env, reference_attention   # the package alone does not import Triton
with interpreter_env():
    torch = pytest.importorskip("torch")
    pytest.importorskip("triton")
    import nlpbook.kernels.flash_attention as fa
    import nlpbook.kernels.adaptive_span as asp
    if not fa.interpreting():   # imported earlier without the interpreter: rebuild both modules
        fa = importlib.reload(fa); asp = importlib.reload(asp)

TOL = {torch.float32: 1e-5, torch.float16: 5e-3, torch.bfloat16: 1e-2}


@pytest.fixture(autouse=True)
def triton_only(monkeypatch):
    "Run interpreted; fail if the PyTorch fallback is used; poison (NaN-fill) every buffer the kernels must write."
    def no_fallback(*a, **k): raise AssertionError("the PyTorch fallback ran instead of the Triton kernel")
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    monkeypatch.setattr(fa, "torch_attention", no_fallback)
    monkeypatch.setattr(asp, "_fa_torch_path", no_fallback)
    monkeypatch.setattr(fa, "_fresh", lambda t: t.fill_(float("nan")))
    assert fa.interpreting()


def seed_of(*case):
    "A per-case seed that is the same in every run (Python's hash() of a str is salted per process)."
    return zlib.crc32(repr(case).encode())


def rel_err(got, want):
    "||got - want|| / ||want|| in float64 (the plain norm of got when want is exactly 0, e.g. dq with one key)."
    got, want = got.double(), want.double()
    den = want.norm().item()
    return ((got - want).norm() / (den if den > 0 else 1.0)).item()


def oracle(q, k, v, causal, scale, mask):
    "Float64 output; reference_attention where every query row sees a key, else the masked PyTorch path."
    q, k, v = (t.detach().double().requires_grad_() for t in (q, k, v))
    lq, lk = q.shape[2], k.shape[2]
    if mask is None and not (causal and lq > lk): out = reference_attention(q, k, v, causal, scale)
    else: out = TORCH_ATTENTION(q, k, v, causal, scale, mask)
    return q, k, v, out


TORCH_ATTENTION = fa.torch_attention   # the real one, kept before the fixture replaces it


def inputs(seed, b, h, lq, lk, d, dtype, masked):
    "Fresh random q, k, v (and a key-padding mask whose batch rows keep different key counts)."
    g = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(b, h, n, d, generator=g).to(dtype).requires_grad_() for n in (lq, lk, lk))
    mask = None
    if masked:
        mask = torch.rand(b, lk, generator=g) > 0.3
        mask[0, -1] = False
        if b > 1: mask[1] = False; mask[1, : lk // 3] = True   # row 1 keeps only a prefix
    return q, k, v, mask


CASES = [  # (causal, B, H, Lq, Lk, D, dtype, masked, scale)
    (False, 1, 2, 17, 17, 16, torch.float32, False, None),
    (True, 2, 1, 33, 33, 32, torch.float32, False, None),
    (False, 1, 1, 1, 1, 16, torch.float32, False, None),
    (True, 1, 2, 1, 33, 64, torch.float32, False, None),     # one decoding query sees every key
    (True, 1, 2, 33, 17, 16, torch.float32, False, None),    # Lq > Lk: the first 16 rows see nothing
    (False, 2, 1, 17, 70, 32, torch.float32, False, None),   # Lq < Lk
    (True, 1, 1, 70, 40, 64, torch.float32, False, None),
    (True, 1, 1, 33, 33, 128, torch.float32, False, None),
    (False, 1, 2, 17, 23, 20, torch.float32, False, 0.3),    # head dim padded 20 -> 32; custom scale
    (False, 2, 2, 17, 33, 32, torch.float32, True, None),    # key-padding mask
    (True, 2, 1, 40, 40, 16, torch.float32, True, None),
    (True, 1, 2, 33, 33, 32, torch.float16, False, None),
    (False, 2, 1, 17, 40, 64, torch.float16, True, None),
    (True, 1, 2, 33, 33, 32, torch.bfloat16, False, None),
    (False, 2, 1, 40, 17, 64, torch.bfloat16, True, None),
]


@pytest.mark.parametrize("causal,b,h,lq,lk,d,dtype,masked,scale", CASES,
                         ids=[f"{'causal' if c[0] else 'full'}-B{c[1]}H{c[2]}-{c[3]}x{c[4]}-d{c[5]}-{str(c[6])[6:]}"
                              f"{'-mask' if c[7] else ''}{'-scale' if c[8] else ''}" for c in CASES])
def test_forward_backward_match_float64(causal, b, h, lq, lk, d, dtype, masked, scale, request):
    q, k, v, mask = inputs(seed_of(causal, b, h, lq, lk, d, dtype, masked), b, h, lq, lk, d, dtype, masked)
    out = fa.flash_attention(q, k, v, causal=causal, scale=scale, key_padding_mask=mask)
    assert fa.last_backend() == "triton"
    assert out.dtype == dtype and out.shape == (b, h, lq, d)
    assert torch.isfinite(out).all(), "some output elements were never written (NaN poison survived)"
    g = torch.Generator().manual_seed(lq * 7 + lk)
    dout = torch.randn(out.shape, generator=g).to(dtype)
    grads = torch.autograd.grad(out, (q, k, v), dout)
    q64, k64, v64, want = oracle(q, k, v, causal, d ** -0.5 if scale is None else scale, mask)
    want_grads = torch.autograd.grad(want, (q64, k64, v64), dout.double())
    tol = TOL[dtype]
    errs = [rel_err(out, want)] + [rel_err(gr, w) for gr, w in zip(grads, want_grads)]
    for name, gr in zip("qkv", grads): assert torch.isfinite(gr).all(), f"d{name} not fully written"
    print(f"\nrel err {request.node.callspec.id}: out/dq/dk/dv " + " ".join(f"{e:.1e}" for e in errs))  # pytest -s
    assert max(errs) < tol, f"relative errors out, dq, dk, dv = {errs} (tolerance {tol})"


def test_empty_rows_are_zero_with_zero_gradient():
    "Causal with Lq > Lk: rows that see no key return 0 and pass no gradient (softmax would give NaN)."
    q, k, v, _ = inputs(3, 1, 1, 20, 5, 16, torch.float32, False)
    out = fa.flash_attention(q, k, v, causal=True)
    assert (out[:, :, :15] == 0).all() and (out[:, :, 15:].abs() > 0).any()
    dq, = torch.autograd.grad(out.sum(), (q,))
    assert (dq[:, :, :15] == 0).all()


def test_non_contiguous_inputs():
    "(B, L, H, D) projections viewed as (B, H, L, D) (a transpose, not a copy) give the same result and gradients."
    g = torch.Generator().manual_seed(21)
    q, k, v = (torch.randn(2, n, 2, 32, generator=g).transpose(1, 2).requires_grad_() for n in (19, 27, 27))
    assert not q.is_contiguous()
    out = fa.flash_attention(q, k, v, causal=True)
    grads = torch.autograd.grad(out, (q, k, v), torch.ones_like(out))
    q64, k64, v64, want = oracle(q, k, v, True, 32 ** -0.5, None)
    wants = torch.autograd.grad(want, (q64, k64, v64), torch.ones_like(want))
    assert max(rel_err(a, w) for a, w in zip((out, *grads), (want, *wants))) < 1e-5


def test_masked_oracle_agrees_with_reference():
    "The masked PyTorch path equals reference_attention wherever the latter is defined."
    q, k, v, _ = inputs(5, 2, 2, 9, 13, 16, torch.float32, False)
    for causal in (False, True):
        want = reference_attention(q, k, v, causal)
        got = TORCH_ATTENTION(q.detach().double(), k.detach().double(), v.detach().double(), causal)
        assert rel_err(got, want) < 1e-6
    keep_all = torch.ones(2, 13, dtype=torch.bool)
    got = TORCH_ATTENTION(q.detach().double(), k.detach().double(), v.detach().double(), True, None, keep_all)
    assert rel_err(got, reference_attention(q, k, v, True)) < 1e-6


@pytest.mark.parametrize("bad", ["rank", "dtype", "shape", "mask", "mem", "mem_pair"])
def test_bad_input_raises_one_clear_error(bad):
    q = k = v = torch.randn(1, 1, 4, 16)
    args = dict(q=q, k=k, v=v)
    if bad == "rank": args["q"] = torch.randn(4, 16)
    if bad == "dtype": args["k"] = k.double()
    if bad == "shape": args["v"] = torch.randn(1, 1, 5, 16)
    if bad == "mask": args["key_padding_mask"] = torch.ones(1, 4)   # float, not bool
    if bad == "mem": args["mem_k"] = args["mem_v"] = torch.randn(2, 3, 16)   # 2 heads, q has 1
    if bad == "mem_pair": args["mem_k"] = torch.randn(1, 3, 16)              # mem_v missing
    with pytest.raises(ValueError, match="flash_attention"): fa.flash_attention(**args)


def test_torch_compile_uses_the_custom_op():
    "Under torch.compile (fullgraph) the kernels run as the nlpbook::flash_attention_* ops, gradients included."
    q, k, v, mask = inputs(11, 2, 1, 17, 21, 16, torch.float32, True)
    f = torch.compile(lambda q, k, v: fa.flash_attention(q, k, v, causal=True, key_padding_mask=mask) * 2,
                      backend="aot_eager", fullgraph=True)
    out = f(q, k, v)
    grads = torch.autograd.grad(out, (q, k, v), torch.ones_like(out))
    q64, k64, v64, want = oracle(q, k, v, True, 16 ** -0.5, mask)
    want_grads = torch.autograd.grad(want * 2, (q64, k64, v64), torch.ones_like(want))
    errs = [rel_err(out, want * 2)] + [rel_err(g, w) for g, w in zip(grads, want_grads)]
    assert max(errs) < 1e-5, errs


# ---- persistent memory ---------------------------------------------------------------------------

def memory_oracle(q, k, v, mem_k, mem_v, causal, scale, mask):
    "Float64 attention over [memory; sequence] by concatenation: memory columns always kept, the rest causal/padded."
    q, k, v, mem_k, mem_v = (t.detach().double().requires_grad_() for t in (q, k, v, mem_k, mem_v))
    (b, h, lq, d), lk, m = q.shape, k.shape[2], mem_k.shape[-2]
    keep = torch.ones(lq, lk, dtype=torch.bool)
    if causal: keep = keep.tril(lk - lq)
    keep = keep.expand(b, 1, lq, lk)
    if mask is not None: keep = keep & mask[:, None, None, :]
    keep = torch.cat([torch.ones(b, 1, lq, m, dtype=torch.bool), keep], -1)
    kc = torch.cat([mem_k.expand(b, h, m, d), k], 2)
    vc = torch.cat([mem_v.expand(b, h, m, d), v], 2)
    scores = (q @ kc.transpose(-2, -1) * scale).masked_fill(~keep, float("-inf"))
    return (q, k, v, mem_k, mem_v), scores.softmax(-1) @ vc


MEM_CASES = [  # (causal, B, H, Lq, Lk, D, M, shared, dtype, masked)
    (False, 2, 2, 17, 23, 16, 1, True, torch.float32, False),
    (True, 2, 1, 33, 33, 32, 5, False, torch.float32, True),    # per-sequence memory, padding mask
    (True, 1, 2, 33, 17, 16, 5, True, torch.float32, False),    # Lq > Lk: the first 16 rows see only memory
    (True, 2, 1, 19, 19, 20, 1, True, torch.float32, True),     # padded head dim; row 1 keeps a prefix only
    (False, 1, 1, 9, 13, 16, 20, True, torch.float32, False),   # memory longer than one key block
    (True, 1, 2, 33, 33, 32, 5, True, torch.float16, False),
]


@pytest.mark.parametrize("causal,b,h,lq,lk,d,m,shared,dtype,masked", MEM_CASES,
                         ids=[f"{'causal' if c[0] else 'full'}-B{c[1]}H{c[2]}-{c[3]}x{c[4]}-d{c[5]}-M{c[6]}"
                              f"{'-shared' if c[7] else '-perseq'}-{str(c[8])[6:]}{'-mask' if c[9] else ''}" for c in MEM_CASES])
def test_persistent_memory_matches_float64(causal, b, h, lq, lk, d, m, shared, dtype, masked, request):
    seed = seed_of("mem", causal, b, h, lq, lk, d, m, shared, dtype, masked)
    q, k, v, mask = inputs(seed, b, h, lq, lk, d, dtype, masked)
    g = torch.Generator().manual_seed(seed + 1)
    mem_k, mem_v = (torch.randn(*(() if shared else (b,)), h, m, d, generator=g).to(dtype).requires_grad_()
                    for _ in range(2))
    out = fa.flash_attention(q, k, v, causal=causal, key_padding_mask=mask, mem_k=mem_k, mem_v=mem_v)
    assert fa.last_backend() == "triton"
    assert out.dtype == dtype and out.shape == (b, h, lq, d) and torch.isfinite(out).all(), "output not fully written"
    dout = torch.randn(out.shape, generator=g).to(dtype)
    grads = torch.autograd.grad(out, (q, k, v, mem_k, mem_v), dout)
    leaves, want = memory_oracle(q, k, v, mem_k, mem_v, causal, d ** -0.5, mask)
    wants = torch.autograd.grad(want, leaves, dout.double())
    for name, gr, x in zip(("q", "k", "v", "mem_k", "mem_v"), grads, (q, k, v, mem_k, mem_v)):
        assert gr.shape == x.shape and torch.isfinite(gr).all(), f"d{name} not fully written"
    errs = [rel_err(out, want)] + [rel_err(gr, w) for gr, w in zip(grads, wants)]
    print(f"\nrel err mem-{request.node.callspec.id}: out/dq/dk/dv/dmk/dmv " + " ".join(f"{e:.1e}" for e in errs))
    assert max(errs) < TOL[dtype], f"relative errors out, dq, dk, dv, dmem_k, dmem_v = {errs} (tolerance {TOL[dtype]})"


def test_memory_ignores_masks_and_fallback_agrees():
    "A query that sees no sequence key attends to memory only: with one memory slot its output is mem_v, exactly."
    q, k, v, _ = inputs(17, 1, 2, 20, 5, 16, torch.float32, False)
    mem_k, mem_v = torch.randn(2, 1, 16), torch.randn(2, 1, 16)
    out = fa.flash_attention(q, k, v, causal=True, mem_k=mem_k, mem_v=mem_v)
    torch.testing.assert_close(out[0, :, :15], mem_v.expand(2, 15, 16), rtol=1e-6, atol=1e-6)
    want = TORCH_ATTENTION(q, k, v, True, None, None, mem_k, mem_v)   # the PyTorch fallback takes memory too
    assert rel_err(out, want) < 1e-5



def test_torch_compile_with_memory():
    "The custom ops carry the memory too: fullgraph torch.compile gives the memory gradients."
    q, k, v, mask = inputs(23, 2, 1, 17, 21, 16, torch.float32, True)
    mem_k, mem_v = (torch.randn(1, 3, 16, generator=torch.Generator().manual_seed(i)).requires_grad_() for i in (1, 2))
    f = torch.compile(lambda *t: fa.flash_attention(*t[:3], causal=True, key_padding_mask=mask, mem_k=t[3], mem_v=t[4]),
                      backend="aot_eager", fullgraph=True)
    out = f(q, k, v, mem_k, mem_v)
    grads = torch.autograd.grad(out, (q, k, v, mem_k, mem_v), torch.ones_like(out))
    leaves, want = memory_oracle(q, k, v, mem_k, mem_v, True, 16 ** -0.5, mask)
    wants = torch.autograd.grad(want, leaves, torch.ones_like(want))
    errs = [rel_err(out, want)] + [rel_err(g, w) for g, w in zip(grads, wants)]
    assert max(errs) < 1e-5, errs

# ---- adaptive span -------------------------------------------------------------------------------

# Spans are not integers: at an integer z the mask's kinks fall on a key (x = z or z + R), where the
# derivative is one-sided; the kernel takes 0 there, autograd through clamp takes 1/R.
SPAN_CASES = [  # (B, H, Lq, Lk, D, spans, ramp, dtype)
    (1, 2, 33, 33, 16, (5.5, 40.0), 4.0, torch.float32),       # one short span, one longer than L
    (2, 2, 70, 70, 32, (12.3, -3.0), 8.0, torch.float32),      # z < 0 is clamped to 0: only the ramp remains
    (1, 1, 17, 45, 64, (20.7,), 16.0, torch.float32),          # Lq < Lk (bottom-right aligned)
    (1, 2, 40, 40, 20, (9.2, 25.1), 6.0, torch.float32),       # padded head dim
    (1, 2, 33, 33, 32, (7.4, 13.6), 5.0, torch.float16),
    (1, 2, 33, 33, 32, (7.4, 13.6), 5.0, torch.bfloat16),
    (1, 2, 40, 60, 32, (10.3, 15.45), 8.0, torch.bfloat16),    # dz from the bf16-rounded delta was 7e-2 off here
]


@pytest.mark.parametrize("b,h,lq,lk,d,spans,ramp,dtype", SPAN_CASES,
                         ids=[f"B{c[0]}H{c[1]}-{c[2]}x{c[3]}-d{c[4]}-R{c[6]:g}-{str(c[7])[6:]}" for c in SPAN_CASES])
def test_adaptive_span_matches_float64(b, h, lq, lk, d, spans, ramp, dtype, request):
    q, k, v, _ = inputs(seed_of(b, h, lq, lk, d, spans, dtype), b, h, lq, lk, d, dtype, False)
    span = torch.tensor(spans, requires_grad=True)
    out = asp.adaptive_span_attention(q, k, v, span, ramp)
    assert asp.last_backend() == "triton"
    assert out.dtype == dtype and torch.isfinite(out).all(), "output not fully written"
    dout = torch.randn(out.shape, generator=torch.Generator().manual_seed(lq)).to(dtype)
    grads = torch.autograd.grad(out, (q, k, v, span), dout)
    q64, k64, v64 = (t.detach().double().requires_grad_() for t in (q, k, v))
    z64 = span.detach().double().requires_grad_()
    want = asp.adaptive_span_reference(q64, k64, v64, z64, ramp)
    wants = torch.autograd.grad(want, (q64, k64, v64, z64), dout.double())
    errs = [rel_err(out, want)] + [rel_err(g, w) for g, w in zip(grads, wants)]
    for g in grads: assert torch.isfinite(g).all()
    print(f"\nrel err span-{request.node.callspec.id}: out/dq/dk/dv/dz " + " ".join(f"{e:.1e}" for e in errs))
    assert max(errs) < TOL[dtype], f"relative errors out, dq, dk, dv, dz = {errs}"
    # dz is summed from float32 terms whatever the input dtype (delta re-summed, not taken from bf16 out)
    assert errs[4] < 1e-4, f"d(span) relative error {errs[4]}"


def test_adaptive_span_reference_limits():
    "A span longer than the sequence is plain causal attention; a span of 0 with a tiny ramp is the diagonal (v)."
    q, k, v, _ = inputs(9, 1, 2, 12, 12, 16, torch.float32, False)
    far = asp.adaptive_span_reference(q, k, v, torch.tensor([100.0, 100.0]), ramp=1.0)
    assert rel_err(far, reference_attention(q, k, v, causal=True)) < 1e-6
    near = asp.adaptive_span_reference(q, k, v, torch.tensor([0.0, 0.0]), ramp=1e-3)
    assert rel_err(near, v) < 1e-6


def test_adaptive_span_skips_blocks_beyond_the_span():
    "Keys 0..15 are NaN: queries whose block lies wholly beyond z + R of them never load them, so stay finite and exact."
    q, k, v, _ = inputs(13, 1, 1, 64, 64, 16, torch.float32, False)
    span = torch.tensor([5.0])                                   # z + R = 9 < 32 - 15
    want = asp.adaptive_span_reference(q, k, v, span, 4.0)
    k2, v2 = k.detach().clone(), v.detach().clone()
    k2[:, :, :16] = float("nan"); v2[:, :, :16] = float("nan")
    out = asp.adaptive_span_attention(q.detach(), k2, v2, span, 4.0)
    assert torch.isfinite(out[:, :, 32:]).all()
    assert rel_err(out[:, :, 32:], want[:, :, 32:]) < 1e-5
    assert torch.isnan(out[:, :, :16]).any()                     # the same NaN does reach queries that load it


def run_fresh(code: str, timeout: float):
    "Run `code` in a fresh Python process without TRITON_INTERPRET, within `timeout` seconds; it must exit 0 and print 'ok'."
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0 and "ok" in r.stdout, r.stderr[-2000:]


def test_fallback_warns_once_without_interpreter():
    "CPU tensors without TRITON_INTERPRET: the PyTorch path, one warning naming why (fresh process)."
    code = ("import warnings, torch\n"
            "from nlpbook.kernels.flash_attention import flash_attention, last_backend\n"
            "from nlpbook.kernels import reference_attention\n"
            "q = torch.randn(1, 2, 9, 16, requires_grad=True)\n"
            "with warnings.catch_warnings(record=True) as w:\n"
            "    warnings.simplefilter('always')\n"
            "    o = flash_attention(q, q, q, causal=True); flash_attention(q, q, q)\n"
            "o.sum().backward()\n"
            "assert last_backend() == 'torch' and len(w) == 1 and 'TRITON_INTERPRET' in str(w[0].message), w\n"
            "assert (o - reference_attention(q, q, q, True)).abs().max() < 1e-5 and q.grad is not None\n"
            "import nlpbook.kernels.adaptive_span as asp\n"
            "z = torch.tensor([3.5, 50.0], requires_grad=True)\n"
            "with warnings.catch_warnings(record=True) as w:\n"
            "    warnings.simplefilter('always')\n"
            "    o = asp.adaptive_span_attention(q, q, q, z, 2.0); asp.adaptive_span_attention(q, q, q, z, 2.0)\n"
            "o.sum().backward()\n"
            "assert asp.last_backend() == 'torch' and len(w) == 1 and z.grad is not None, w\n"
            "print('ok')\n")
    run_fresh(code, timeout=120)


def test_kernels_built_interpreted_run_after_the_variable_is_gone():
    "Imported under TRITON_INTERPRET=1, then the caller drops it (as this file and nbs/07b do): both kernels still run interpreted (fresh process)."
    code = ("import os, torch\n"
            "os.environ['TRITON_INTERPRET'] = '1'\n"
            "import nlpbook.kernels.adaptive_span as asp\n"
            "from nlpbook.kernels import reference_attention\n"
            "del os.environ['TRITON_INTERPRET']\n"
            "q = torch.randn(1, 2, 9, 16, requires_grad=True)\n"
            "z = torch.tensor([3.5, 50.0], requires_grad=True)\n"
            "asp.adaptive_span_attention(q, q, q, z, 2.0).sum().backward()\n"
            "assert asp.last_backend() == 'triton' and z.grad is not None\n"
            "o = asp._fa.flash_attention(q, q, q, causal=True)\n"
            "assert asp._fa.last_backend() == 'triton' and (o - reference_attention(q, q, q, True)).abs().max() < 1e-5\n"
            "assert 'TRITON_INTERPRET' not in os.environ   # restored after each launch\n"
            "print('ok')\n")
    run_fresh(code, timeout=120)


if _TRITON_ALREADY_LOADED:
    # Another module imported Triton first (compiled mode) in this session: the interpreted run
    # cannot happen in this process, so run this file in a fresh one instead and require it to pass.
    for _name in [n for n in list(globals()) if n.startswith("test_")]: del globals()[_name]

    def test_kernels_in_fresh_interpreter_process():
        env = dict(os.environ, TRITON_INTERPRET="1")
        r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__],
                           env=env, capture_output=True, text=True, timeout=900)
        assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]

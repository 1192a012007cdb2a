"The float64 attention oracle in `nlpbook.kernels` agrees with PyTorch's SDPA (the CPU fallback)."
import os
import pytest
torch = pytest.importorskip("torch")
import torch.nn.functional as F
from nlpbook.kernels import interpreter_env, reference_attention


# SDPA's causal mask is top-left aligned; ours aligns the last query with the last key (decoding
# with a KV cache), so causal cases compare only where the two agree: lq == lk.
@pytest.mark.parametrize("causal,lq,lk", [(False, 7, 7), (False, 5, 9), (False, 16, 16), (True, 7, 7), (True, 16, 16)])
def test_reference_matches_sdpa(causal, lq, lk):
    g = torch.Generator().manual_seed(lq * 31 + lk + causal)
    q, k, v = (torch.randn(2, 3, n, 16, generator=g) for n in (lq, lk, lk))
    want = F.scaled_dot_product_attention(q.double(), k.double(), v.double(), is_causal=causal).float()
    got = reference_attention(q, k, v, causal=causal)
    assert got.dtype == q.dtype and got.shape == (2, 3, lq, 16)
    assert ((got - want).norm() / want.norm()).item() < 1e-6


def test_reference_causal_bottom_right_alignment():
    q, k, v = torch.randn(1, 1, 2, 4), torch.randn(1, 1, 5, 4), torch.randn(1, 1, 5, 4)
    out = reference_attention(q, k, v, causal=True)
    # The last query sees every key, so it equals plain attention's last row.
    assert torch.allclose(out[..., -1, :], reference_attention(q, k, v)[..., -1, :], atol=1e-6)
    # The first query sees keys 0..3 only: changing key 4 leaves it unchanged.
    k2 = k.clone(); k2[..., 4, :] += 10
    assert torch.allclose(out[..., 0, :], reference_attention(q, k2, v, causal=True)[..., 0, :], atol=1e-6)


@pytest.mark.parametrize("before", [None, "0", "1"])
def test_interpreter_env_sets_then_restores(monkeypatch, before):
    if before is None: monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    else: monkeypatch.setenv("TRITON_INTERPRET", before)
    with interpreter_env(): assert os.environ["TRITON_INTERPRET"] == "1"
    assert os.environ.get("TRITON_INTERPRET") == before
    with interpreter_env(on=False): assert os.environ.get("TRITON_INTERPRET") == before
    with pytest.raises(KeyError), interpreter_env(): raise KeyError("inside")   # restored on an error too
    assert os.environ.get("TRITON_INTERPRET") == before

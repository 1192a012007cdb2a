"""Appendix B's `kernels/vector_ops.cu`: compiled with the machine's nvcc (skipped where there is none), and run
against NumPy on a GPU (`-m cuda`; skipped where there is no GPU). Run on a lent GPU with
`pytest -m cuda tests/test_cuda_vector_ops.py`.
"""
import subprocess
import numpy as np
import pytest

from nlpbook.cuda_ext import compile_cuda, cuda_source, find_nvcc, gpu_available, run_vector_ops

needs_nvcc = pytest.mark.skipif(find_nvcc() is None, reason="no nvcc on this machine (compiling needs the CUDA toolkit)")


@needs_nvcc
def test_vector_ops_compiles():
    exe = compile_cuda(cuda_source("vector_ops.cu"))
    assert exe.is_file() and exe.stat().st_size > 0


@needs_nvcc
def test_vector_ops_compiles_with_warnings_as_errors(tmp_path, monkeypatch):
    # a fresh cache, so this really runs nvcc, with the host compiler's warnings turned into errors
    monkeypatch.setenv("NLPBOOK_CACHE", str(tmp_path))
    assert compile_cuda(cuda_source("vector_ops.cu"), flags=("-O2", "-Werror", "all-warnings")).is_file()


@pytest.mark.cuda
@needs_nvcc
@pytest.mark.skipif(not gpu_available(), reason="no NVIDIA GPU here")
@pytest.mark.parametrize("n", [1, 1000, 1 << 20, (1 << 20) + 17])
def test_vector_ops_match_numpy(n):
    rng = np.random.default_rng(n)
    a, b = rng.standard_normal(n).astype(np.float32), rng.standard_normal(n).astype(np.float32)
    s, p = run_vector_ops(a, b)
    np.testing.assert_array_equal(s, a + b)     # one float32 add / multiply per element: bit-exact
    np.testing.assert_array_equal(p, a * b)


@pytest.mark.cuda
@needs_nvcc
@pytest.mark.skipif(not gpu_available(), reason="no NVIDIA GPU here")
def test_vector_ops_demo_checks_itself():
    r = subprocess.run([str(compile_cuda(cuda_source("vector_ops.cu")))], capture_output=True, text=True)
    assert r.returncode == 0 and "mismatches=0" in r.stdout, r.stdout + r.stderr

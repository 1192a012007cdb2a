"""Compile every attention kernel and autotune config for an H100 (sm_90) without a GPU.

    .venv/bin/python benchmarks/attention_sm90_compile.py --dtype bf16 [--dims 64 128]

Triton's wheel carries ptxas and cuobjdump, so `triton.compile(..., target=GPUTarget("cuda", 90, 32))`
builds the real GPU binary on any machine. That catches GPU-only compile errors (which the CPU
interpreter never sees) and reports what costs no device time: shared memory per program,
registers per thread, local-memory stack (spills), Hopper wgmma ops and cp.async copies (software
pipelining) of each config. It times nothing.
"""
from __future__ import annotations
import argparse, os, re, subprocess, sys, tempfile


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dtype", default="bf16", choices=["bf16", "fp16", "fp32"])
    p.add_argument("--dims", type=int, nargs="+", default=[64, 128])
    p.add_argument("--causal", type=int, default=1, choices=[0, 1])
    p.add_argument("--mem", type=int, default=0, choices=[0, 1], help="build flash_attention with persistent memory (HAS_MEM)")
    a = p.parse_args(argv)
    if os.environ.get("TRITON_INTERPRET") == "1":
        sys.exit("attention_sm90_compile.py: unset TRITON_INTERPRET (it would build interpreted kernels)")
    import triton
    from triton.compiler import ASTSource
    from triton.backends.compiler import GPUTarget
    from triton.runtime.autotuner import Autotuner
    import nlpbook.kernels.flash_attention as fa
    import nlpbook.kernels.adaptive_span as asp
    cuobjdump = os.path.join(os.path.dirname(triton.__file__), "backends", "nvidia", "bin", "cuobjdump")
    target, ptr = GPUTarget("cuda", 90, 32), "*" + a.dtype
    types = dict(Q=ptr, K=ptr, V=ptr, O=ptr, DO=ptr, DQ=ptr, DK=ptr, DV=ptr, LSE="*fp32", DELTA="*fp32",
                 DZP="*fp32", Z="*fp32", KPM="*i8", MK=ptr, MV=ptr, qk_scale="fp32", sm_scale="fp32", ramp="fp32")
    failures = 0

    def build(kern, consts, warps, stages):
        nonlocal failures
        fn = kern.fn if isinstance(kern, Autotuner) else kern
        consts = {k: v for k, v in consts.items() if k in fn.arg_names}
        sig = {n: ("constexpr" if n in consts else types.get(n, "i32")) for n in fn.arg_names}
        # what the JIT's specialization adds at launch for 16-byte-aligned pointers and ints divisible
        # by 16 (strides, D): without these hints nothing is vectorized or pipelined (cp.async)
        hints = {(i,): [["tt.divisibility", 16]] for i, n in enumerate(fn.arg_names)
                 if n not in consts and n not in ("qk_scale", "sm_scale", "ramp", "Lq", "Lk", "H", "M")}
        src = ASTSource(fn=fn, signature=sig, constexprs={(fn.arg_names.index(k),): v for k, v in consts.items()},
                        attrs=hints)
        label = f"{fn.__name__:15s} {consts.get('BLOCK_M')}x{consts.get('BLOCK_N')} D{consts['BLOCK_D']} w{warps} s{stages}"
        try:
            k = triton.compile(src, target=target, options=dict(num_warps=warps, num_stages=stages))
        except Exception as e:  # report and go on: the autotuner would skip such a config
            failures += 1
            print(f"| {label} | FAILED: {type(e).__name__}: {str(e).splitlines()[0][:120]} |||||"); return
        with tempfile.NamedTemporaryFile(suffix=".cubin") as f:
            f.write(k.asm["cubin"]); f.flush()
            res = subprocess.run([cuobjdump, "-res-usage", f.name], capture_output=True, text=True).stdout
        regs, stack = re.search(r"REG:(\d+)", res), re.search(r"STACK:(\d+)", res)
        ttgir = k.asm["ttgir"]
        print(f"| {label} | {k.metadata.shared} | {regs and regs.group(1)} | {stack and stack.group(1)} | "
              f"{ttgir.count('warp_group_dot ')} | {ttgir.count('async_copy_global_to_local')} |", flush=True)

    print(f"## sm_90 builds, {a.dtype}, causal={bool(a.causal)}, triton {triton.__version__}\n")
    print("| kernel / config | shared bytes | registers | stack bytes | wgmma ops | async copies |\n|---|---|---|---|---|---|")
    for d in a.dims:
        c = dict(CAUSAL=bool(a.causal), HAS_MASK=False, HAS_MEM=bool(a.mem), BLOCK_D=d, EVEN_D=True, UPCAST=False,
                 DOT_PREC="ieee" if a.dtype == "fp32" else "tf32")
        for bm, bn, w, s in fa._FWD:
            build(fa._fwd_kernel, dict(c, BLOCK_M=bm, BLOCK_N=bn), w, s)
            build(asp._as_fwd, dict(c, BLOCK_M=bm, BLOCK_N=bn), w, s)
        for bm, bn, w, s in fa._BWD:
            for kern in (fa._bwd_dkdv_kernel, fa._bwd_dq_kernel, asp._as_bwd_dkdv, asp._as_bwd_dq_dz):
                build(kern, dict(c, BLOCK_M=bm, BLOCK_N=bn), w, s)
        build(fa._bwd_preprocess, dict(BLOCK_M=64, BLOCK_D=d), 4, 1)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

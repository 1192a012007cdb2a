"""Chapter 6 micro-benchmark: one training step's forward and backward through each `torch.nn` recurrent layer, packed vs padded.

Run from the project root:

    .venv/bin/python benchmarks/ch06_final_state.py            # batch 256, lengths 150..300, hidden 100 (the book's sizes)

`packed` is `nlpbook.rnns.packed_final_state` (`pack_padded_sequence`, the textbook way to stop at each review's end);
`padded` is `nlpbook.rnns.torch_final_state`, which reads the same states from the padded batch. Both give the same
states and gradients (tested in nbs/06_rnns.ipynb); this script only times them. Prints a markdown table.
"""
from __future__ import annotations
import argparse, statistics, time

from common import machine_line  # benchmarks/common.py


def step_seconds(fn, x, repeats: int) -> tuple[float, float]:
    "Median seconds of the forward `fn(x)` and of the backward of its squared sum, over `repeats` runs."
    fwd, bwd = [], []
    for _ in range(repeats + 1):                      # the first run warms up and is dropped
        x.grad = None
        t0 = time.perf_counter(); y = fn(x); t1 = time.perf_counter()
        y.pow(2).sum().backward(); t2 = time.perf_counter()
        fwd.append(t1 - t0); bwd.append(t2 - t1)
    return statistics.median(fwd[1:]), statistics.median(bwd[1:])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bs", type=int, default=256)
    p.add_argument("--min-len", type=int, default=150)
    p.add_argument("--max-len", type=int, default=300)
    p.add_argument("--hidden", type=int, default=100)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--layers", default="rnn,birnn,lstm,gru", help="comma-separated keys of nlpbook.rnns.BACKBONES")
    a = p.parse_args(argv)

    import torch
    from nlpbook.rnns import BACKBONES, packed_final_state, torch_final_state
    torch.manual_seed(0)
    lengths = torch.randint(a.min_len, a.max_len + 1, (a.bs,))
    lengths[0] = a.max_len                            # the padded batch is as long as its longest review
    x = torch.randn(a.bs, a.max_len, a.hidden, requires_grad=True)

    print(f"### Chapter 6: forward + backward of one batch ({a.bs} reviews, {a.min_len}..{a.max_len} steps, hidden {a.hidden})\n")
    print(machine_line(f"torch {torch.__version__} ({torch.get_num_threads()} threads)"))
    print(f"- median of {a.repeats} runs after one warm-up\n")
    print("| layer | packed fwd s | packed bwd s | padded fwd s | padded bwd s | packed / padded (fwd + bwd) |")
    print("|---|---|---|---|---|---|")
    for name in a.layers.split(","):
        layer = BACKBONES[name](a.hidden, a.hidden)
        pf, pb = step_seconds(lambda x: packed_final_state(layer, x, lengths), x, a.repeats)
        df, db = step_seconds(lambda x: torch_final_state(layer, x, lengths), x, a.repeats)
        print(f"| {name} | {pf:.2f} | {pb:.2f} | {df:.2f} | {db:.2f} | {(pf + pb) / (df + db):.1f}x |", flush=True)


if __name__ == "__main__":
    main()

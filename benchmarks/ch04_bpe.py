"""Chapter 4 benchmark: BPE training, our pure-Python trainer vs Hugging Face `tokenizers` (Rust).

Run from the project root (the dataset comes from the cache, $NLPBOOK_MIRROR, or its URL):

    NLPBOOK_MIRROR=/work/shared/data .venv/bin/python benchmarks/ch04_bpe.py

It takes the first IMDb unlabelled reviews (`imdb/unsup.csv`) up to --mb megabytes of text and, in one
run, trains both tokenizers on the same lines to the same vocabulary (--vocab, default 30,000) with the
same pre-tokenization (`tokenizers`' `Whitespace`; ours: `nlpbook.tokenization.whitespace_pretokenize`)
and special tokens. Both timings include reading the lines' words (pre-tokenize + count) and the merges.
Repetitions are interleaved (ours, theirs, theirs on 1 core, ours, ...) so drift on a shared machine hits both alike, and
the merges and vocabularies are checked to be identical. `tokenizers` uses all cores (Rayon), and is also timed on one; ours uses one.
It prints a markdown table (machine, date, command, medians, ratio) for BENCHMARKS.md.
"""
from __future__ import annotations
import argparse, datetime, os, statistics, sys, time

from common import first_mb, machine_line  # benchmarks/common.py

SPECIALS = ["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"]


def imdb_lines(mb: float) -> list[str]:
    "The first IMDb unlabelled reviews whose texts add up to at least `mb` MB (UTF-8)."
    import pandas as pd
    from nlpbook.data import load_dataset_file
    return first_mb(pd.read_csv(load_dataset_file("imdb", "unsup.csv")).text.astype(str), mb)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mb", type=float, default=12.0, help="megabytes of IMDb review text (issue: >= 10)")
    p.add_argument("--vocab", type=int, default=30_000, help="vocabulary size, special tokens included")
    p.add_argument("--reps", type=int, default=3, help="interleaved repetitions of each trainer")
    a = p.parse_args(argv)

    import tokenizers
    from nlpbook.tokenization import count_words, train_bpe, train_hf_bpe, hf_merges, saved_merges

    lines = imdb_lines(a.mb)
    n_bytes = sum(len(t.encode("utf-8")) for t in lines)

    def ours():
        t0 = time.perf_counter(); wc = count_words(lines); t1 = time.perf_counter()
        vocab, merges = train_bpe(wc, a.vocab, SPECIALS)
        t2 = time.perf_counter()
        return (t2 - t0, t1 - t0), (vocab, merges, len(wc))

    def theirs(parallel: bool = True):
        # tokenizers reads TOKENIZERS_PARALLELISM at each call: "false" runs its Rayon loops serially (1 core)
        os.environ["TOKENIZERS_PARALLELISM"] = "true" if parallel else "false"
        t0 = time.perf_counter(); tok = train_hf_bpe(lines, a.vocab, SPECIALS)
        return time.perf_counter() - t0, tok

    def theirs_from_file():
        # tokenizers reading the text itself (the book's `tokenizer.train(files, trainer)`): no Python iterator in the loop
        from tokenizers import Tokenizer, models, pre_tokenizers, trainers
        os.environ["TOKENIZERS_PARALLELISM"] = "true"
        t0 = time.perf_counter()
        tok = Tokenizer(models.BPE(unk_token=SPECIALS[0])); tok.pre_tokenizer = pre_tokenizers.Whitespace()
        tok.train([corpus_file], trainers.BpeTrainer(vocab_size=a.vocab, special_tokens=SPECIALS, show_progress=False))
        return time.perf_counter() - t0, tok

    import tempfile
    tmp = tempfile.TemporaryDirectory()
    corpus_file = os.path.join(tmp.name, "imdb.txt")
    with open(corpus_file, "w", encoding="utf-8") as f:   # one review per line; reviews contain no newlines
        f.writelines(t.replace("\n", " ") + "\n" for t in lines)

    t_ours, t_count, t_hf, t_hf1, t_hff, same = [], [], [], [], [], None
    for _ in range(a.reps):
        (tt, tc), (vocab, merges, n_words) = ours(); t_ours.append(tt); t_count.append(tc)
        th, tok = theirs(); t_hf.append(th)
        t_hf1.append(theirs(parallel=False)[0])
        tf, tok_f = theirs_from_file(); t_hff.append(tf)
        if same is None and hf_merges(tok_f) != hf_merges(tok): sys.exit("tokenizers from file differs from tokenizers from lines")
        if same is None:
            same = (saved_merges(merges) == hf_merges(tok) and vocab == tok.get_vocab())
            if not same: sys.exit("our merges/vocabulary differ from tokenizers': the comparison would be meaningless")
    mo, mc, mh, mh1, mhf = (statistics.median(t) for t in (t_ours, t_count, t_hf, t_hf1, t_hff))
    cmd = " ".join(["python", "benchmarks/ch04_bpe.py"] + (argv if argv is not None else sys.argv[1:]))
    out = [
        f"### Chapter 4: BPE training, ours vs tokenizers ({datetime.date.today().isoformat()})",
        "",
        machine_line(f"tokenizers {tokenizers.__version__}"),
        f"- command: `NLPBOOK_MIRROR=... {cmd}`",
        f"- data: first {len(lines):,} IMDb unlabelled reviews, {n_bytes / 1e6:.1f} MB, {n_words:,} distinct words "
        f"(Whitespace pre-tokenization); vocabulary {a.vocab:,} ({len(merges):,} merges); "
        f"merges and vocabulary identical: {same}",
        f"- medians of {a.reps} interleaved repetitions; both include pre-tokenizing and counting words",
        "",
        "| trainer | median (s) | min-max (s) | ratio to tokenizers |",
        "|---|---:|---:|---:|",
        f"| ours, pure Python (`count_words` + `train_bpe`), 1 core | {mo:.2f} | {min(t_ours):.2f}-{max(t_ours):.2f} | {mo / mh:.1f}x |",
        f"| of which pre-tokenize + count words | {mc:.2f} | {min(t_count):.2f}-{max(t_count):.2f} | |",
        f"| Hugging Face `tokenizers` BpeTrainer (Rust, all cores) | {mh:.2f} | {min(t_hf):.2f}-{max(t_hf):.2f} | 1.0x |",
        f"| same, `TOKENIZERS_PARALLELISM=false` (1 core) | {mh1:.2f} | {min(t_hf1):.2f}-{max(t_hf1):.2f} | {mh1 / mh:.1f}x |",
        f"| same, `tokenizer.train([file])` (reads the text itself) | {mhf:.2f} | {min(t_hff):.2f}-{max(t_hff):.2f} | {mhf / mh:.1f}x |",
        "",
        f"Bar from the issue: ours <= 10x tokenizers. Measured against the fastest tokenizers variant: "
        f"{mo / min(mh, mh1, mhf):.1f}x ({'met' if mo / min(mh, mh1, mhf) <= 10 else 'NOT met'}).",
    ]
    print("\n".join(out))


if __name__ == "__main__":
    main()

"""Chapter 4 benchmark: tokenizer throughput (MB/s) on the same IMDb reviews, next to the book's claim.

Run from the project root (the dataset comes from the cache, $NLPBOOK_MIRROR, or its URL):

    NLPBOOK_MIRROR=/work/shared/data .venv/bin/python benchmarks/ch04_throughput.py --mb 5 --reps 3

It takes the first `--mb` MB (UTF-8) of IMDb's unlabelled reviews and measures, rep by rep interleaved so
that drift on a shared machine hits all alike:
  * our pure-Python WordPiece (`nlpbook.subword.WordPiece`, MiniLM's vocab.txt; a fresh per-word cache each rep),
  * HF's Rust BERT tokenizer (MiniLM's tokenizer.json), one text per call and `encode_batch`,
  * our pure-Python byte-level BPE (`nlpbook.subword.ByteBPE`) and HF's `ByteLevelBPETokenizer`, both loaded
    from the same GPT-2-format files trained here on WikiText-2 valid (`--bpe-vocab` entries),
  * spaCy's rule-based tokenizer (`load_spacy("en_core_web_sm").tokenizer`, via `tokenizer.pipe`).
Before timing it checks that ours and HF's give identical ids on every review (WordPiece and BPE).
The book quotes the `tokenizers` README: "less than 20 seconds to tokenize a GB of text on a server's CPU"
(>= 50 MB/s). It prints a markdown table (machine, date, command, medians) for BENCHMARKS.md.
"""
from __future__ import annotations
import argparse, datetime, os, statistics, sys, tempfile, time

from common import first_mb, machine_line  # benchmarks/common.py


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mb", type=float, default=5.0, help="MB of IMDb reviews to tokenize")
    p.add_argument("--reps", type=int, default=3, help="timed repetitions per tokenizer (median reported)")
    p.add_argument("--bpe-vocab", type=int, default=8000, help="vocabulary size of the byte-level BPE trained here")
    a = p.parse_args(argv)

    import pandas as pd, tokenizers, transformers, spacy
    from tokenizers import ByteLevelBPETokenizer
    from nlpbook.data import load_dataset_file, load_wikitext
    from nlpbook.models import minilm_path, load_spacy
    from nlpbook.subword import WordPiece, ByteBPE, train_byte_bpe

    texts = first_mb(pd.read_csv(load_dataset_file("imdb", "unsup.csv"))["text"], a.mb)
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    hf_bert = tokenizers.Tokenizer.from_file(str(minilm_path() / "tokenizer.json"))
    hf_bert.no_truncation(); hf_bert.no_padding()   # MiniLM's tokenizer.json truncates and pads to 128 tokens
    wiki = [l for l in load_wikitext("valid").splitlines() if l.strip()]
    bpe_dir = tempfile.mkdtemp()
    train_byte_bpe(wiki, a.bpe_vocab, bpe_dir)
    hf_bpe = ByteLevelBPETokenizer(f"{bpe_dir}/vocab.json", f"{bpe_dir}/merges.txt")
    bpe_files = (f"{bpe_dir}/vocab.json", f"{bpe_dir}/merges.txt")
    spacy_tok = load_spacy("en_core_web_sm").tokenizer

    # equality first: a fast tokenizer that gives other ids is not a result
    wp = WordPiece.from_file(minilm_path() / "vocab.txt")
    bad_wp = sum(wp.encode(t) != e.ids for t, e in zip(texts, hf_bert.encode_batch(texts, add_special_tokens=False)))
    bb = ByteBPE.from_files(*bpe_files)
    bad_bpe = sum(bb.encode(t) != e.ids for t, e in zip(texts, hf_bpe.encode_batch(texts)))
    if bad_wp or bad_bpe: sys.exit(f"ids differ from HF on {bad_wp} (WordPiece) / {bad_bpe} (BPE) reviews")

    # each entry makes a fresh tokenizer (so our per-word caches start cold) and returns the timed call
    def ours(make): return lambda: (lambda tok: lambda: [tok.encode(t) for t in texts])(make())
    def fixed(f): return lambda: f
    methods = {
        "WordPiece, ours (pure Python, per-word cache)": ours(lambda: WordPiece.from_file(minilm_path() / "vocab.txt")),
        "WordPiece, HF `tokenizers` (Rust), one text per call": fixed(lambda: [hf_bert.encode(t, add_special_tokens=False) for t in texts]),
        "WordPiece, HF `tokenizers` (Rust), `encode_batch`": fixed(lambda: hf_bert.encode_batch(texts, add_special_tokens=False)),
        "WordPiece, HF `tokenizers` (Rust), `encode_batch_fast` (no offsets)": fixed(lambda: hf_bert.encode_batch_fast(texts, add_special_tokens=False)),
        "byte-level BPE, ours (pure Python, per-word cache)": ours(lambda: ByteBPE.from_files(*bpe_files)),
        "byte-level BPE, HF `tokenizers` (Rust), one text per call": fixed(lambda: [hf_bpe.encode(t) for t in texts]),
        "byte-level BPE, HF `tokenizers` (Rust), `encode_batch`": fixed(lambda: hf_bpe.encode_batch(texts)),
        "byte-level BPE, HF `tokenizers` (Rust), `encode_batch_fast` (no offsets)": fixed(lambda: hf_bpe._tokenizer.encode_batch_fast(texts)),
        "spaCy `nlp.tokenizer.pipe` (rules, no model)": fixed(lambda: list(spacy_tok.pipe(texts, batch_size=1000))),
    }
    times = {k: [] for k in methods}
    for _ in range(a.reps):
        for k, prepare in methods.items():
            f = prepare()
            t0 = time.perf_counter(); f(); times[k].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    ref = "WordPiece, HF `tokenizers` (Rust), `encode_batch`"

    cmd = " ".join(["python", "benchmarks/ch04_throughput.py"] + (argv if argv is not None else sys.argv[1:]))
    lines = [
        f"### Chapter 4: tokenizer throughput ({datetime.date.today().isoformat()})",
        "",
        machine_line(f"tokenizers {tokenizers.__version__}, transformers {transformers.__version__}, "
        f"spaCy {spacy.__version__}; TOKENIZERS_PARALLELISM={os.environ.get('TOKENIZERS_PARALLELISM', 'unset')}"),
        f"- command: `NLPBOOK_MIRROR=... {cmd}`",
        f"- data: first {len(texts):,} IMDb unsup reviews, {mb:.2f} MB UTF-8; ours and HF checked to give identical ids on "
        f"every review (WordPiece: MiniLM vocab; BPE: {a.bpe_vocab:,}-entry byte-level BPE trained on WikiText-2 valid)",
        f"- medians of {a.reps} interleaved repetitions; 'GB time' = 1,000 MB / (MB/s); ours return ids only, HF's `encode`/"
        f"`encode_batch` build full `Encoding`s (tokens, offsets, masks), `encode_batch_fast` skips the offsets",
        "- book (quoting the `tokenizers` README): \"less than 20 seconds to tokenize a GB of text on a server's CPU\" = at least 50 MB/s",
        "",
        "| tokenizer | median (s) | MB/s | time for 1 GB | vs HF WordPiece batched |",
        "|---|---:|---:|---:|---:|",
    ]
    for k, m in med.items():
        lines.append(f"| {k} | {m:.2f} | {mb / m:.1f} | {1000 / (mb / m):,.0f} s | {med[ref] / m:.2f}x |")
    lines.append("| book's claim: HF `tokenizers` on a server CPU | | >= 50 | < 20 s | |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

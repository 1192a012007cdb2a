"""Chapter 2 benchmark: ULMFiT on IMDb, end to end (general LM, IMDb LM fine-tuning, classifier), plus the book's quick baseline.

Run from the project root. Book scale (needs a GPU; several hours: 10 general-LM epochs, 1+10 IMDb-LM epochs over
75,000 reviews, 1+1+1+2 classifier epochs and a 1+4-epoch quick baseline on 25,000 / 25,000 reviews):

    NLPBOOK_MIRROR=/work/shared/data .venv/bin/python benchmarks/ch02_ulmfit.py

Smaller runs, same code:

    NLPBOOK_MIRROR=/work/shared/data .venv/bin/python benchmarks/ch02_ulmfit.py --smoke    # seconds: plumbing only
    NLPBOOK_MIRROR=/work/shared/data nice -n 10 .venv/bin/python benchmarks/ch02_ulmfit.py --medium   # ~10-20 min on 2 CPU cores

Stage 1 pretrains fastai's AWD-LSTM (`pretrained=False`) on the general-domain text available offline (WikiText-2 raw
valid+test and gensim's Wikipedia sample, `nlpbook.ulmfit.general_corpus`), unless the official `wt103-fwd` files
are in fastai's model folder (`find_wt103`; `--no-wt103` ignores them). Stage 2 fine-tunes it on IMDb train +
unlabelled text (`finetune_lm`: wd 0.1, 1 epoch head, then all layers, atomic checkpoint each epoch, resumable).
Stage 3 trains the classifier with the LM's vocabulary and gradual unfreezing (`train_ulmfit_classifier`), validated on
the test split as the book did. The quick baseline is the book's `text_classifier_learner(dls, AWD_LSTM,
drop_mult=0.5)` + `fine_tune(4, 1e-2)` on its own vocabulary, its encoder loaded from stage 1. It prints a markdown
table for BENCHMARKS.md with the book's numbers (LM perplexity 35.45 after 1+10 epochs; quick fine_tune 93.1%;
ULMFiT 94.31% on the 25k test set) and writes benchmarks/results/ch02_ulmfit.json (read by nbs/02_ulmfit.ipynb).
Checkpoints and models go to --out/SCALE (default ~/.cache/nlpbook/ch02_ulmfit); rerunning after a crash resumes
the LM stages from their last saved epoch.
"""
from __future__ import annotations
import argparse, contextlib, datetime, sys, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine_line, write_json  # benchmarks/common.py

BOOK = dict(lm_perplexity=35.4515, quick_acc=0.931, ulmfit_acc=0.9431)

SCALES = {  # name: sizes and epochs
    'book':   dict(n_train=None, n_test=None, n_unsup=None, max_chars=None, general_chars=None, emb_sz=None, n_hid=None,
                   bs=64, seq_len=72, general_epochs=10, general_lr=5e-3, lm_epochs=(1, 10), quick_epochs=4,
                   clas_epochs=(1, 1, 1, 2)),
    'medium': dict(n_train=2000, n_test=1000, n_unsup=2000, max_chars=1000, general_chars=1_000_000, emb_sz=64, n_hid=128,
                   bs=32, seq_len=48, general_epochs=2, general_lr=1e-2, lm_epochs=(1, 2), quick_epochs=2,
                   clas_epochs=(1, 1, 1, 2)),
    'smoke':  dict(n_train=80, n_test=40, n_unsup=40, max_chars=400, general_chars=40_000, emb_sz=32, n_hid=64,
                   bs=16, seq_len=32, general_epochs=1, general_lr=1e-2, lm_epochs=(1, 1), quick_epochs=1,
                   clas_epochs=(1, 1, 1, 1)),
}


def main(argv=None):
    "Parse the arguments; train with fastai's progress output on stderr, print the table on stdout."
    with contextlib.redirect_stdout(sys.stderr): report = run(argv)
    print(report)


def run(argv=None) -> str:
    "Run the stages at the chosen scale, write the JSON, return the markdown table."
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = p.add_mutually_exclusive_group()
    g.add_argument("--smoke", action="store_true", help="toy sizes: checks that every stage runs")
    g.add_argument("--medium", action="store_true", help="CPU-feasible sizes (a few thousand reviews, small model)")
    p.add_argument("--no-wt103", action="store_true", help="pretrain stage 1 even if the official wt103 files are present")
    p.add_argument("--no-quick", action="store_true", help="skip the book's quick fine_tune baseline")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: 1 on CPU, torch's choice on GPU)")
    p.add_argument("--out", default=str(Path.home() / ".cache" / "nlpbook" / "ch02_ulmfit"),
                   help="folder for models and checkpoints (outside the repository; rerun to resume)")
    p.add_argument("--json", default=None, help="results file (default benchmarks/results/ch02_ulmfit[_SCALE].json)")
    a = p.parse_args(argv)
    scale = 'smoke' if a.smoke else 'medium' if a.medium else 'book'
    c = SCALES[scale]

    import nlpbook  # noqa: F401  (first: hides fastai's torchvision, which cannot load beside the CPU torch)
    import torch
    from fastai.text.all import AWD_LSTM, text_classifier_learner, accuracy, set_seed
    from nlpbook.ulmfit import (general_corpus, imdb_lm_df, imdb_clas_df, awd_lstm_configs, find_wt103, pretrain_lm,
                                finetune_lm, train_ulmfit_classifier, clas_dataloaders, metrics_table, perplexity)
    cuda = torch.cuda.is_available()
    if a.threads: torch.set_num_threads(a.threads)
    elif not cuda: torch.set_num_threads(1)   # tiny LSTM steps: extra threads only spin on a shared CPU
    dl_kw = {} if cuda else {'num_workers': 0}
    out = Path(a.out) / scale
    t_all = time.time(); times = {}

    lm_config, clas_config = awd_lstm_configs(c['emb_sz'], c['n_hid'])
    lm_df = imdb_lm_df(n_train=c['n_train'], n_unsup=c['n_unsup'], max_chars=c['max_chars'])
    clas_df = imdb_clas_df(n_train=c['n_train'], n_test=c['n_test'], max_chars=c['max_chars'])
    n_tr, n_te = int((~clas_df.is_valid).sum()), int(clas_df.is_valid.sum())
    print(f"[{scale}] LM text {len(lm_df):,} reviews; classifier {n_tr:,} train / {n_te:,} test; device "
          f"{'cuda' if cuda else 'cpu'}", file=sys.stderr)

    wt103 = None if a.no_wt103 else find_wt103()
    set_seed(0); t = time.time()
    if wt103:
        fnames, (lm_config, clas_config), general_desc, gen_rows = wt103, awd_lstm_configs(), "official wt103-fwd", []
    else:
        general = general_corpus(max_chars=c['general_chars'])
        fnames, gen = pretrain_lm(general, out, config=lm_config, epochs=c['general_epochs'], lr=c['general_lr'],
                                  bs=c['bs'], seq_len=c['seq_len'], **dl_kw)
        gen_rows = gen.ulmfit_metrics.to_dict('records')
        general_desc = (f"ours: {general.text.str.len().sum():,} chars of WikiText-2 (valid+test) + gensim's Wikipedia "
                        f"sample, {c['general_epochs']} epochs, valid perplexity {perplexity(gen_rows[-1]['valid_loss']):.1f}")
    times['stage 1'] = time.time() - t

    quick = None
    if not a.no_quick:
        set_seed(0); t = time.time()
        dls = clas_dataloaders(clas_df, path=out, bs=c['bs'], **dl_kw)
        learn = text_classifier_learner(dls, AWD_LSTM, config=clas_config, drop_mult=0.5, metrics=accuracy, pretrained=False)
        learn = learn.load_pretrained(fnames[0] + '.pth', fnames[1] + '.pkl', model=learn.model[0])
        if cuda: learn = learn.to_fp16()
        learn.fine_tune(c['quick_epochs'], 1e-2)
        quick = metrics_table(learn)
        times['quick baseline'] = time.time() - t
        print(quick.to_string(index=False), file=sys.stderr)

    set_seed(0); t = time.time()
    lm = finetune_lm(lm_df, fnames, out, config=lm_config, epochs=c['lm_epochs'], bs=c['bs'], seq_len=c['seq_len'], **dl_kw)
    lm_rows = lm.ulmfit_metrics
    times['stage 2'] = time.time() - t
    print(lm_rows.to_string(index=False), file=sys.stderr)

    set_seed(0); t = time.time()
    clas, clas_rows = train_ulmfit_classifier(clas_df, lm.dls.vocab, out, config=clas_config, epochs=c['clas_epochs'],
                                       bs=c['bs'], **dl_kw)
    times['stage 3'] = time.time() - t
    print(clas_rows.to_string(index=False), file=sys.stderr)

    lm_ppl = perplexity(float(lm_rows.valid_loss.iloc[-1]))
    numbers = {
        f"IMDb LM perplexity after {'+'.join(map(str, c['lm_epochs']))} epochs (book 35.45 after 1+10)": round(lm_ppl, 2),
        "IMDb LM next-word accuracy (book 34.3%)": f"{float(lm_rows.accuracy.iloc[-1]):.1%}",
        f"quick fine_tune({c['quick_epochs']}) test accuracy (book 93.1%)": None if quick is None else f"{float(quick.accuracy.iloc[-1]):.2%}",
        f"ULMFiT test accuracy, last epoch (book 94.31% best epoch, 94.26% last)": f"{float(clas_rows.accuracy.iloc[-1]):.2%}",
        "ULMFiT test accuracy, best epoch": f"{float(clas_rows.accuracy.max()):.2%}",
    }
    device = torch.cuda.get_device_name(0) if cuda else "CPU"
    versions = f"torch {torch.__version__} ({torch.get_num_threads()} threads), fastai {__import__('fastai').__version__}, device {device}"
    cmd = "python benchmarks/ch02_ulmfit.py " + " ".join(sys.argv[1:] if argv is None else argv)

    lines = [f"### Chapter 2: ULMFiT on IMDb ({scale} scale)\n"]; out_ = lines.append
    out_(machine_line(versions))
    out_(f"- date: {datetime.date.today()}; command: `{cmd.strip()}`; total {time.time() - t_all:.0f} s "
          f"({', '.join(f'{k} {v:.0f} s' for k, v in times.items())})")
    cut = '' if c['max_chars'] is None else f", reviews cut to {c['max_chars']} chars"
    out_(f"- data: classifier {n_tr:,} train / {n_te:,} test reviews, LM text {len(lm_df):,} reviews (train + unsup; "
          f"test left out){cut}; "
          f"AWD-LSTM emb {lm_config['emb_sz']} / hidden {lm_config['n_hid']} / {lm_config['n_layers']} layers")
    out_(f"- stage 1 (general LM): {general_desc}\n")
    out_("| quantity | book | ours |")
    out_("|---|---|---|")
    out_(f"| IMDb LM perplexity (book: after 1+10 epochs; ours: {'+'.join(map(str, c['lm_epochs']))}) | 35.45 | {lm_ppl:.2f} |")
    out_(f"| IMDb LM next-word accuracy | 34.3% | {float(lm_rows.accuracy.iloc[-1]):.1%} |")
    if quick is not None:
        out_(f"| quick `fine_tune` test accuracy (book: 4 epochs; ours: {c['quick_epochs']}) | 93.1% | {float(quick.accuracy.iloc[-1]):.2%} |")
    out_(f"| ULMFiT test accuracy, gradual unfreezing (last epoch; best) | 94.26%; 94.31% | "
          f"{float(clas_rows.accuracy.iloc[-1]):.2%}; {float(clas_rows.accuracy.max()):.2%} |")

    res = Path(a.json or ("benchmarks/results/ch02_ulmfit.json" if scale == 'book' else f"benchmarks/results/ch02_ulmfit_{scale}.json"))
    write_json(res, dict(
        date=str(datetime.date.today()), scale=scale, device=device, machine=machine_line(versions), command=cmd.strip(),
        sizes=c, n_train=n_tr, n_test=n_te, n_lm_texts=len(lm_df), general=general_desc, seconds=times, numbers=numbers,
        book=BOOK, general_lm=gen_rows, lm=lm_rows.to_dict('records'), quick=None if quick is None else quick.to_dict('records'),
        classifier=clas_rows.to_dict('records')), default=str)
    return "\n".join(lines)


if __name__ == "__main__":
    main()

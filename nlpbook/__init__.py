"""Applied Natural Language Processing in the Enterprise, rebuilt as a tested, offline-first library and notebook book

Modules:

- `nlpbook.annotation`: Read, validate and write Prodigy-format JSONL with srsly, turn annotations into spaCy `DocBin`s, split and count them, and annotate by hand in a small Streamlit app: the open replacement for the paid tool the book used.
- `nlpbook.annotation_app`: The file that `streamlit run` executes to serve the annotation app of 03a_annotation: an absolute import and a call, so that the app itself runs as an ordinary module of the package.
- `nlpbook.attention`: Chapter 7, part 1: dot-product and scaled dot-product attention, why the scores are divided by √d, padding and causal masks, multi-head attention, and the encoder and decoder layers of the original Transformer, each checked against PyTorch's own implementation.
- `nlpbook.attention_variants`: Chapter 7, part 1b: three ways of changing what an attention layer looks at (adaptive attention span, all-attention with persistent memory, product-key memory), each tested against its definition, and a small character-level GPT trained from scratch on WikiText-2 with and without adaptive span.
- `nlpbook.batch_ner`: Chapter 11, "Productionization", first part: spaCy NER over AG News descriptions as a batch job, five ways (the book's `.apply` loop, `nlp.pipe`, `nlp.pipe` in two processes, Spark with the book's row-at-a-time `udf`, Spark with an `Iterator[pd.Series]` `pandas_udf`), the same entities from each, and `batch_ner` / `nlpbook batch-ner`: CSV or Parquet in, Parquet out, atomic, idempotent, logged.
- `nlpbook.batch_schedule`: Chapter 11, "Productionization", second part (a start): Chapter 11's `batch_ner` job on a schedule with APScheduler, as the book schedules its Databricks notebook as a job: overlapping runs prevented and recorded, failed runs retried with a growing delay, every attempt in the run log.
- `nlpbook.bertology`: From one-hot vectors to contextual embeddings: dense vectors, fastText's character n-grams, the same word in two contexts, masked language modelling, and the ELMo / BERT / GPT family with the causal mask that separates them.
- `nlpbook.cli`: The library's high-level calls as shell commands, for practitioners who never open a notebook.
- `nlpbook.custom_ner`: Chapter 3, "Custom NER": a hand-corrected gold set of AG News descriptions for ORG, PERSON, GPE and a new TICKER label, stored as stand-off records; spaCy's own CLI (`init config`, `fill-config`, `train`) for a blank CPU pipeline and for `en_core_web_sm` updated with TICKER; catastrophic forgetting measured; base vs custom per-label scores and displaCy renders.
- `nlpbook.data`: Every dataset the book uses, by name: from a local cache, a mirror folder, or its public URL, always checked against its sha256.
- `nlpbook.docs`: Execute each notebook the way nbdev-test does, process it with nbdev's own doc processors, and render the book offline with Sphinx, myst-nb and furo; write README.md from the index notebook.
- `nlpbook.embeddings`: Encodings as numbers, one-hot vectors and `nn.Embedding`, word2vec from scratch beside gensim, and pretrained GloVe vectors.
- `nlpbook.hf_inference`: Chapter 2, part 2: the book's GPT-2 "With great power comes great ..." walk-through, run offline on a small causal language model with every shape checked, a next-token helper, a greedy / temperature / top-k text generator tested against `model.generate`, and the trailing-space pitfall of byte-level BPE tokenizers.
- `nlpbook.models`: One call per model the book uses, that finds an installed copy, falls back to the offline re-uploads, and otherwise says exactly what to install.
- `nlpbook.rnn_classifier`: Chapter 5, "Embeddings in Practice": IMDb reviews, a GloVe-initialised `nn.Embedding`, padded batches through `pack_padded_sequence`, the book's `RNN_classifier` made device-agnostic, and `predict_sentiment`.
- `nlpbook.rnns`: Chapter 6, "Recurrent Neural Networks and Other Sequence Models": `RNNCell`, `RNN`, `LSTMCell` and `GRUCell` from scratch (each equal to its `torch.nn` twin), a bidirectional wrapper, a character-level seq2seq model that translates dates, and the book's IMDb `TextClassifier` with a swappable recurrent backbone trained by a fastai `Learner`.
- `nlpbook.serving`: Chapter 11, the MLflow half: Chapter 3's text classifier and custom NER pipeline logged to an embedded MLflow 3 store (SQLite, no server), registered, promoted with aliases, loaded back as a pyfunc and as a Spark UDF, and served over REST by `mlflow models serve`, with today's payloads, the book's 2021 payload translated, bad requests answered with 4xx, and latency measured.
- `nlpbook.spacy_basics`: Chapter 1: tokenization, part-of-speech tags, dependencies, noun chunks, lemmas, named entities and entity linking with spaCy, plus the book's opening Hugging Face demos rebuilt to run offline.
- `nlpbook.subword`: Chapter 4, part 2: WordPiece (BERT) and byte-level BPE (GPT-2) encoders written from scratch and tested token-for-token against Hugging Face's Rust tokenizers, a small WordPiece trainer, and SentencePiece's unigram model.
- `nlpbook.testgen`: Turn the notebooks' code cells into pytest files, so `pytest` runs the book's tests against the installed library.
- `nlpbook.textcat`: Chapter 3: the AG News data set, what a pretrained spaCy pipeline finds in it, and topic classifiers trained with spaCy's own config and CLI, next to a TF-IDF baseline.
- `nlpbook.tokenization`: Chapter 4: from the book's split-on-space tokenizer (and the bug in its vocabulary) to the Hugging Face `tokenizers` pipeline, and byte-pair encoding written from scratch that reproduces `tokenizers`' merges and encodings exactly.
- `nlpbook.transformer_ner`: Chapter 3, "Custom NER", part (c): a transformer NER model for ORG, PERSON, GPE and TICKER trained with Hugging Face directly (no spacy-transformers): character spans to BIO wordpiece labels through the fast tokenizer's offsets, a plain PyTorch loop (AdamW, linear warmup and decay) over MiniLM with a token-classification head, exact-match span scores on the same 100 held-out descriptions as the spaCy pipelines, and an atomically saved model.
- `nlpbook.ulmfit`: Chapter 2, "Transformers and Transfer Learning", part 1: the book's fastai walk-through — a quick `text_classifier_learner` baseline, then the three stages of ULMFiT (a general-domain language model, fine-tuned on IMDb, turned into a classifier with gradual unfreezing) — on real IMDb, fully offline.
- `nlpbook.word2vec`: Chapter 5, part 2: skip-gram and CBOW with negative sampling in plain PyTorch, trained on IMDb reviews side by side with gensim's `Word2Vec` on the same corpus and settings, and scored on the same analogy and similarity sets."""

__version__ = "0.1.0"

# fastai's torchvision dependency cannot load beside the CPU torch wheel; hide it before anyone imports
# transformers (nbs/00a_models.ipynb, "The torchvision trap").
from .models import hide_mismatched_torchvision as _hide_mismatched_torchvision
_hide_mismatched_torchvision()

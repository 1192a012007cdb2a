"""Applied Natural Language Processing in the Enterprise, rebuilt as a tested, offline-first library and notebook book

Modules:

- `nlpbook.annotation`: Read, validate and write Prodigy-format JSONL with srsly, turn annotations into spaCy `DocBin`s, split and count them, and annotate by hand in a small Streamlit app: the open replacement for the paid tool the book used.
- `nlpbook.annotation_app`: The file that `streamlit run` executes to serve the annotation app of 03a_annotation: an absolute import and a call, so that the app itself runs as an ordinary module of the package.
- `nlpbook.ulmfit`: Chapter 2, "Transformers and Transfer Learning", part 1: the book's fastai walk-through — a quick `text_classifier_learner` baseline, then the three stages of ULMFiT (a general-domain language model, fine-tuned on IMDb, turned into a classifier with gradual unfreezing) — on real IMDb, fully offline."""

__version__ = "0.1.0"

# fastai's torchvision dependency cannot load beside the CPU torch wheel; hide it before anyone imports
# transformers (nbs/00a_models.ipynb, "The torchvision trap").
from .models import hide_mismatched_torchvision as _hide_mismatched_torchvision
_hide_mismatched_torchvision()

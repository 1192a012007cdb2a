__version__ = "0.1.0"

# fastai's torchvision dependency cannot load beside the CPU torch wheel; hide it before anyone imports
# transformers (nbs/00a_models.ipynb, "The torchvision trap").
from .models import hide_mismatched_torchvision as _hide_mismatched_torchvision
_hide_mismatched_torchvision()

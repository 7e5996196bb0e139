"""Keep libraries' chatter off the command line; real problems still surface."""

import os
import warnings

# Libraries whose deprecation and future-change notices concern their own internals, not the
# user's input ("is_gradient_checkpointing is deprecated", "loss_type=None").
_CHATTY = r"(transformers|sentence_transformers|torch|huggingface_hub|spacy|thinc|dask|distributed)"


def quiet_third_party() -> None:
    """Silence deprecation/future warnings raised inside chatty libraries and their info logs.

    Warnings of other kinds (UserWarning, RuntimeWarning) and errors are left alone.
    """
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for category in (DeprecationWarning, FutureWarning, PendingDeprecationWarning):
        warnings.filterwarnings("ignore", category=category, module=_CHATTY)

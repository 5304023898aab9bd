"""Labelling methods: what differs between unmask, causal, repeat, encoder and generative, in one class each.

- `base`: the `Method` interface (defaults, validation, model loading, encoding, collator and loss,
  checkpoint selection, evaluation, card fields, the tagger a directory loads as);
- `registry`: methods by name; `register(...)` adds one without editing lookright;
- `token`: the token classifiers (`unmask`, `causal`, `repeat`, `encoder`);
- `generative`: spans written by the decoder under a grammar (`generative`).

Adding a method::

    from lookright.methods import register
    from lookright.methods.token import TokenMethod

    class LastGroup(TokenMethod):
        name = "last-group"
        def unmask_config(self, cfg):
            return "0001"

    register(LastGroup)   # now TrainConfig(method="last-group"), Tagger.load of its directories...
"""

from .base import F1_SELECTION, LOSS_SELECTION, Encoded, LoadedModel, Method, Selection, TrainerParts
from .registry import get_method, method_names, register, unregister

__all__ = [
    "F1_SELECTION",
    "LOSS_SELECTION",
    "Encoded",
    "LoadedModel",
    "Method",
    "Selection",
    "TrainerParts",
    "get_method",
    "method_names",
    "register",
    "unregister",
]

"""A token-classification head for every decoder, using transformers' own generic head.

transformers ships `*ForTokenClassification` for most decoders (a dropout + a linear layer named
`score` over the final hidden states), but not for all (e.g. `gemma3_text`). For those we assemble
the same class from `GenericForTokenClassification` and the model's own `PreTrainedModel` base and
register it with the Auto API, so loading, saving, peft and Trainer treat every model alike.
"""

from __future__ import annotations

from transformers import AutoModel, AutoModelForTokenClassification, PretrainedConfig, PreTrainedModel
from transformers.modeling_layers import GenericForTokenClassification

from ..errors import ModelError


def ensure_token_classification_class(config: PretrainedConfig) -> type[PreTrainedModel]:
    """Return the token-classification class for `config`, registering a generic one if missing."""
    mapping = AutoModelForTokenClassification._model_mapping
    if type(config) in mapping:
        return mapping[type(config)]
    try:
        backbone_cls = AutoModel._model_mapping[type(config)]
    except KeyError as err:
        raise ModelError(f"transformers has no model class for config {type(config).__name__}") from err
    base = next((b for b in backbone_cls.__mro__[1:] if issubclass(b, PreTrainedModel) and b is not PreTrainedModel), None)
    if base is None:
        raise ModelError(f"cannot find the PreTrainedModel base class of {backbone_cls.__name__}")
    name = backbone_cls.__name__.removesuffix("Model").removesuffix("Text") + "ForTokenClassification"
    head_cls = type(name, (GenericForTokenClassification, base), {"__module__": __name__, "config_class": type(config)})
    AutoModelForTokenClassification.register(type(config), head_cls, exist_ok=True)
    return head_cls

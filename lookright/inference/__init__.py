"""Using a trained model: batched scoring, decoding, the Tagger API.

`Tagger` is the interface (and `Tagger.load` the entry point) for every labelling method's model;
`TokenTagger` is the token classifiers' subclass, `lookright.generative.tagger.GenerativeTagger`
the generative method's; `load_tagger(directory)` returns whichever a directory loads as.
"""

from .tagger import TaggedSpan, TaggedText, TaggedWord, Tagger, load_tagger
from .token_tagger import TokenTagger

__all__ = ["TaggedSpan", "TaggedText", "TaggedWord", "Tagger", "TokenTagger", "load_tagger"]

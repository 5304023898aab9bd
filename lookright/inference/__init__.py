"""Using a trained model: batched scoring, decoding, the Tagger API."""

from .tagger import TaggedSpan, TaggedText, TaggedWord, Tagger

__all__ = ["TaggedSpan", "TaggedText", "TaggedWord", "Tagger"]

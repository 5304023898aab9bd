"""From words to model inputs and back: subword alignment by character offsets, long-input windows."""

from .subwords import WordPieces, join_words, special_tokens, split_into_pieces
from .windows import Window, make_windows, plan_windows, stitch

__all__ = ["Window", "WordPieces", "join_words", "make_windows", "plan_windows", "special_tokens", "split_into_pieces", "stitch"]

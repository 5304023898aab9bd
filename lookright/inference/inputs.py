"""What a tagger accepts from Python, checked up front with the index of the first bad item.

Without the check a dict is iterated as a list of words (`tagger({"text": ...})` tags the word
"text"), and None, ints or bytes fail deep inside tokenisation with a bare TypeError.
"""

from __future__ import annotations

import reprlib
from collections.abc import Sequence

from ..errors import DataError, InputTypeError

ACCEPTED = "a str (raw text) or a list/tuple of str (pre-tokenised words)"


def _show(value: object) -> str:
    return f"{type(value).__name__} {reprlib.repr(value)}"


def check_texts(texts: object, call: str = "predict") -> Sequence[str | Sequence[str]]:
    """`texts` itself when it is a list/tuple of texts, each a str or a list/tuple of str words.

    Anything else raises `InputTypeError` (a TypeError too) naming the first bad item by index; an
    empty word or one with whitespace in it is a `DataError`, as in a data file.
    """
    if not isinstance(texts, (list, tuple)):
        single = " (or one str)" if call != "predict" else ""
        raise InputTypeError(f"{call}() takes a list or tuple of texts{single}, each {ACCEPTED}; got {_show(texts)}")
    for i, item in enumerate(texts):
        if isinstance(item, str):
            continue
        if not isinstance(item, (list, tuple)):
            raise InputTypeError(f"texts[{i}] is {_show(item)}: each text must be {ACCEPTED}")
        for k, word in enumerate(item):
            if not isinstance(word, str):
                raise InputTypeError(f"texts[{i}][{k}] is {_show(word)}: the words of a pre-tokenised text are str")
            if not word or any(c.isspace() for c in word):
                raise DataError(
                    f"texts[{i}][{k}] = {word!r} is empty or contains whitespace: a pre-tokenised word is one "
                    "non-empty token (pass raw text as a str to have it split into words)"
                )
    return texts

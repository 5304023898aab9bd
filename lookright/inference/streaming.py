"""Tag files of any size: read lazily, tag a chunk at a time, write as you go, keep input order.

Memory stays bounded by `chunk_size` texts whatever the input size (a 1 GB file is never loaded
whole); within a chunk the Tagger sorts by length and batches to a token budget.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO, Any

from ..data.annotation import TOOL_FORMATS
from ..data.readers import count_lines, iter_data, text_lines
from ..data.sentence import Sentence
from ..data.sniff import column_evidence
from ..data.words import split_words
from ..errors import DataError
from .tagger import TaggedText, Tagger

INPUT_FORMATS = ("auto", "text", "conll", "conllu", "jsonl", *TOOL_FORMATS)
OUTPUT_FORMATS = ("jsonl", "conll")  # what `write_result` writes line by line; `writers.open_writer` has them all
__all__ = [
    "INPUT_FORMATS", "OUTPUT_FORMATS", "Item", "count_lines", "input_format", "iter_inputs", "iter_text_lines", "tag_stream",
    "write_result",
]


@dataclass
class Item:
    """One thing to tag: a raw string or a list of words, the input line it starts on, and the input
    record's other fields (written back beside the result, so an `id` survives tagging)."""

    value: str | list[str]
    line: int | None = None
    fields: dict[str, Any] | None = None


def iter_text_lines(path: str | os.PathLike) -> Iterator[Item]:
    """`.txt`: every line is one text; blank lines are kept (they get empty results, in place)."""
    for number, line in text_lines(path):
        yield Item(line, number)


def input_format(path: str | os.PathLike, fmt: str = "auto") -> str:
    """The reader for `path`: `fmt` as given, or for "auto" chosen by extension (`.txt` = text).

    A `.txt` file that looks like CoNLL columns is refused rather than tagged line by line as raw
    text: the user says which it is.
    """
    fmt = {"txt": "text"}.get(fmt.lower(), fmt.lower())
    if fmt not in INPUT_FORMATS:
        raise ValueError(f"unknown input format {fmt!r}; valid: {', '.join(INPUT_FORMATS)}")
    if fmt != "auto":
        return fmt
    if Path(path).suffix.lower() != ".txt":
        return "auto"  # the data readers' own choice: .jsonl/.json (by their first record), .spacy, .conllu, else CoNLL
    evidence = column_evidence(path)
    if evidence is not None:
        line, reason = evidence
        raise DataError(
            f"this looks like a CoNLL column file, not one text per line ({reason}); pass --input-format conll "
            "to tag its sentences, or --input-format text to tag every line as a raw text",
            path,
            line,
        )
    return "text"


def iter_inputs(path: str | os.PathLike, fmt: str = "auto") -> Iterator[Item]:
    """Items of a text file (one text per line), a JSONL file (`text` or `tokens`), CoNLL/CoNLL-U or
    an annotation tool's file (its texts; the annotations are not read).

    `fmt` is one of `INPUT_FORMATS` (see `input_format` for "auto").
    """
    fmt = input_format(path, fmt)
    if fmt == "text":
        yield from iter_text_lines(path)
        return
    for sentence in iter_data(path, fmt=fmt, label_column=None):
        yield Item(sentence.text if _text_holds_the_words(sentence) else sentence.tokens, sentence.line, sentence.fields)


def _text_holds_the_words(sentence: Sentence) -> bool:
    """Tag the raw text (spans get offsets into it) only when it splits into exactly the file's words.

    A CoNLL-U `# text =` line often does not (`don't` vs the treebank's `do` `n't`, or an empty or
    stale comment): then the words are tagged, one label each, as they are in the file.
    """
    if sentence.text is None:
        return False
    return [sentence.text[s:e] for s, e in split_words(sentence.text)] == sentence.tokens


def check_inputs(path: str | os.PathLike, fmt: str = "auto") -> int:
    """Read the whole input once, keeping nothing, so a bad line fails before the model loads; items seen.

    Tagging a large file takes hours: an error on its last line should not be found at the end.
    """
    return sum(1 for _ in iter_inputs(path, fmt))


def tag_stream(
    tagger: Tagger,
    items: Iterable[Item],
    *,
    chunk_size: int = 512,
    batch_size: int | None = None,
    split_sentences: bool = True,
) -> Iterator[tuple[Item, TaggedText]]:
    """(item, result) pairs in input order, tagging `chunk_size` items at a time."""
    iterator = iter(items)
    while chunk := list(islice(iterator, chunk_size)):
        results = tagger.predict([item.value for item in chunk], batch_size=batch_size, split_sentences=split_sentences)
        yield from zip(chunk, results)


def write_result(handle: IO[str], tagged: TaggedText, fmt: str) -> None:
    """JSONL: one object per input; CoNLL: `word<TAB>label` lines, a blank line after each input."""
    if fmt == "jsonl":
        handle.write(json.dumps(tagged.to_dict(), ensure_ascii=False) + "\n")
    elif fmt == "conll":
        for word in tagged.words:
            handle.write(f"{word.text}\t{word.label}\n")
        handle.write("\n")
    else:
        raise ValueError(f"unknown output format {fmt!r}; valid: {', '.join(OUTPUT_FORMATS)}")

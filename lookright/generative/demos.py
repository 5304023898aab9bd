"""Which training sentences a prompt shows as demonstrations.

`similar` ranks the pool by IDF-weighted overlap of lower-cased words with the query (a cheap
lexical retriever: sentences sharing rare words tend to share entities and patterns); `random`
draws uniformly. Both are deterministic: random draws are seeded by the query itself, so a
sentence gets the same prompt in training, evaluation and prediction.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..data.schemes import Span
from ..errors import DataError, ModelError
from ..outputs import write_text_atomic

POOL_FILE = "demonstrations.jsonl"


@dataclass(frozen=True)
class Demo:
    words: tuple[str, ...]
    spans: tuple[Span, ...]


class DemoPool:
    """Labelled sentences to draw demonstrations from, with an inverted index for retrieval."""

    def __init__(self, demos: Sequence[Demo], seed: int = 0) -> None:
        self.demos = list(demos)
        self.seed = seed
        self._index: dict[str, list[int]] = defaultdict(list)
        frequency: Counter[str] = Counter()
        for i, demo in enumerate(self.demos):
            for word in {w.lower() for w in demo.words}:
                self._index[word].append(i)
                frequency[word] += 1
        n = max(len(self.demos), 1)
        self._idf = {word: math.log(1 + n / count) for word, count in frequency.items()}

    def __len__(self) -> int:
        return len(self.demos)

    def select(self, words: Sequence[str], k: int, strategy: str = "similar", exclude: int | None = None) -> list[Demo]:
        """`k` demonstrations for the sentence `words` (never the pool entry `exclude`, its own source)."""
        if k <= 0 or not self.demos:
            return []
        if strategy == "random":
            digest = hashlib.sha1((str(self.seed) + "\x00" + " ".join(words)).encode()).digest()
            rng = random.Random(int.from_bytes(digest[:8], "big"))
            candidates = [i for i in rng.sample(range(len(self.demos)), min(k + 1, len(self.demos))) if i != exclude]
            return [self.demos[i] for i in candidates[:k]]
        scores: dict[int, float] = defaultdict(float)
        for word in {w.lower() for w in words}:
            weight = self._idf.get(word, 0.0)
            for i in self._index.get(word, ()):
                scores[i] += weight
        scores.pop(exclude, None) if exclude is not None else None
        ranked = sorted(scores, key=lambda i: (-scores[i], i))[:k]
        if len(ranked) < k:  # too little overlap: fill with the first other entries, deterministically
            taken = set(ranked) | ({exclude} if exclude is not None else set())
            ranked += [i for i in range(len(self.demos)) if i not in taken][: k - len(ranked)]
        # least similar first, so the most similar demonstration sits right before the query
        return [self.demos[i] for i in reversed(ranked)]

    def write(self, directory: str | os.PathLike) -> Path:
        lines = []
        for demo in self.demos:
            spans = [[s.start, s.end, s.label] for s in demo.spans]
            lines.append(json.dumps({"words": list(demo.words), "spans": spans}, ensure_ascii=False) + "\n")
        return write_text_atomic(Path(directory) / POOL_FILE, "".join(lines))

    @classmethod
    def read(cls, directory: str | os.PathLike, seed: int = 0, *, required: bool = False) -> DemoPool:
        """The pool saved with a model. `required` (its prompts show demonstrations): a missing file is an
        error, not an empty pool that would prompt with none, unlike what the model was trained on."""
        path = Path(directory) / POOL_FILE
        if not path.is_file():
            if required:
                raise ModelError(f"{path}: missing; this model's prompts show demonstrations from it (copy it "
                                 "from the training output with the rest of the model directory)")
            return cls([], seed)
        demos = []
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                try:
                    row = json.loads(line)
                    spans = tuple(Span(a, b, label) for a, b, label in row["spans"])
                    demos.append(Demo(tuple(row["words"]), spans))
                except (ValueError, KeyError, TypeError) as bad:
                    raise DataError(f"not a demonstration ({bad}); the file is damaged: copy it again from the "
                                    "training output", path, number) from None
        return cls(demos, seed)

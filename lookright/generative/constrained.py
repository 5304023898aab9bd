"""Constrained decoding: the model can only write spans over the input's words, with valid types.

A response is `span ( ; span )* EOS` or just `EOS`, where a span is one or more *consecutive* input
words starting at or after the end of the previous span, then ` =>` and a type name. Each piece is a
fixed token sequence (see `prompts.PieceTokenizer`), so the grammar is followed token by token: at
every step only tokens that continue some valid response are allowed. Repeated words make the
position of a span ambiguous until it ends; all readings are followed in parallel and the earliest
is kept (as the paper's parser matches a span at its first occurrence after the previous one).
Every state has an allowed continuation and the response length is bounded, so decoding always
ends with a response that parses.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import torch
from transformers import LogitsProcessor

from ..data.schemes import Span
from .prompts import PieceTokenizer

START0, START, SPAN, LABEL, DONE = range(5)


@dataclass(frozen=True)
class _State:
    mode: int
    cursor: int = 0  # first word a new span may start at
    start: int = 0  # open span [start, end)
    end: int = 0
    span_step: int = 0  # decoding step at which the open span began
    spans: tuple = ()  # finished (start, end, type, first step, end step)
    piece: tuple | None = None  # token ids of the piece being written
    done: int = 0  # of which `done` are written
    action: tuple | None = None  # what finishing the piece does


class SpanGrammar:
    """The valid responses for one sentence, followed token by token."""

    def __init__(self, words: Sequence[str], pieces: PieceTokenizer, names: dict[str, str]) -> None:
        self.n = len(words)
        self.word_ids = [pieces.word(w) for w in words]
        self.arrow = pieces.arrow
        self.separator = pieces.separator
        self.eos = pieces.eos
        self.name_ids = {t: pieces.name(name) for t, name in names.items()}
        self.states = [_State(START0)]
        self.step = 0
        self.result: tuple | None = None
        self.token_probs: list[float] = []

    def max_tokens(self) -> int:
        """An upper bound on the response length (every word in its own span)."""
        longest_name = max(len(ids) for ids in self.name_ids.values())
        per_span = len(self.arrow) + longest_name + len(self.separator)
        return sum(len(ids) for ids in self.word_ids) + self.n * per_span + 1

    @property
    def finished(self) -> bool:
        return self.result is not None

    def _options(self, s: _State) -> list[tuple[tuple, tuple]]:
        if s.mode in (START0, START):
            return [(self.word_ids[j], ("word", j)) for j in range(s.cursor, self.n)]
        if s.mode == SPAN:
            options = [(self.arrow, ("arrow",))]
            if s.end < self.n:
                options.append((self.word_ids[s.end], ("word", s.end)))
            return options
        if s.mode == LABEL:
            return [(ids, ("name", t)) for t, ids in self.name_ids.items()]
        return [(self.separator, ("sep",))] if s.cursor < self.n else []  # DONE

    @staticmethod
    def _may_end(s: _State) -> bool:
        return s.piece is None and s.mode in (START0, DONE)

    def allowed(self) -> set[int]:
        """Token ids that continue at least one valid response."""
        if self.finished:
            return {self.eos}
        tokens: set[int] = set()
        for s in self.states:
            if s.piece is not None:
                tokens.add(s.piece[s.done])
                continue
            tokens.update(ids[0] for ids, _ in self._options(s))
            if self._may_end(s):
                tokens.add(self.eos)
        return tokens

    def advance(self, token: int, prob: float = math.nan) -> None:
        """Consume one generated token (which must be allowed)."""
        if self.finished:
            return
        self.token_probs.append(prob)
        if token == self.eos:
            endings = [s for s in self.states if self._may_end(s)]
            if not endings:
                raise RuntimeError("end of sequence generated where the grammar does not allow it")
            self.result = min(endings, key=lambda s: [x[:2] for x in s.spans]).spans
            return
        following: list[_State] = []
        for s in self.states:
            if s.piece is not None:
                if s.piece[s.done] == token:
                    following.append(self._progress(s))
                continue
            for ids, action in self._options(s):
                if ids[0] == token:
                    following.append(self._progress(replace(s, piece=ids, done=0, action=action)))
        if not following:
            raise RuntimeError(f"token {token} is not allowed by the span grammar")
        self.states = list(dict.fromkeys(following))
        self.step += 1

    def _progress(self, s: _State) -> _State:
        s = replace(s, done=s.done + 1)
        if s.done < len(s.piece):
            return s
        action, s = s.action, replace(s, piece=None, done=0, action=None)
        kind = action[0]
        if kind == "word":
            j = action[1]
            if s.mode in (START0, START):
                return replace(s, mode=SPAN, start=j, end=j + 1, span_step=self.step)
            return replace(s, end=j + 1)
        if kind == "arrow":
            return replace(s, mode=LABEL)
        if kind == "name":
            span = (s.start, s.end, action[1], s.span_step, self.step + 1)
            return replace(s, mode=DONE, spans=s.spans + (span,), cursor=s.end)
        return replace(s, mode=START)  # separator

    def finish(self) -> None:
        """Stop (length limit reached): keep the spans completed so far."""
        if self.finished:
            return
        self.result = min(self.states, key=lambda s: [x[:2] for x in s.spans]).spans

    def spans(self) -> list[tuple[Span, float]]:
        """The generated spans with their mean token probability."""
        if self.result is None:
            raise RuntimeError("decoding has not finished")
        out = []
        for start, end, label, first, last in self.result:
            probs = [p for p in self.token_probs[first:last] if not math.isnan(p)]
            out.append((Span(start, end, label), sum(probs) / len(probs) if probs else math.nan))
        return out

    def confidence(self) -> float:
        """Mean probability of every generated token (the response as a whole)."""
        probs = [p for p in self.token_probs if not math.isnan(p)]
        return sum(probs) / len(probs) if probs else math.nan


class SpanConstraint(LogitsProcessor):
    """Masks every token the span grammar of each row forbids; tracks each row's state."""

    def __init__(self, grammars: Sequence[SpanGrammar], prompt_length: int) -> None:
        self.grammars = list(grammars)
        self.prompt_length = prompt_length
        self._logprobs: torch.Tensor | None = None

    def _consume(self, tokens: Sequence[int]) -> None:
        for row, (grammar, token) in enumerate(zip(self.grammars, tokens)):
            if grammar.finished:
                continue
            prob = math.exp(float(self._logprobs[row, token])) if self._logprobs is not None else math.nan
            grammar.advance(token, prob)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if input_ids.shape[1] > self.prompt_length:
            self._consume(input_ids[:, -1].tolist())
        mask = torch.full_like(scores, -math.inf)
        for row, grammar in enumerate(self.grammars):
            mask[row, list(grammar.allowed())] = 0
        constrained = scores + mask
        self._logprobs = torch.log_softmax(constrained.float(), dim=-1)
        return constrained

    def close(self, sequences: torch.LongTensor) -> None:
        """After `generate`: consume the last token (the processor never sees it) and end every row."""
        if sequences.shape[1] > self.prompt_length:
            self._consume(sequences[:, -1].tolist())
        for grammar in self.grammars:
            grammar.finish()

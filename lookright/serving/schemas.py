"""Request/response models of the HTTP service (they are also its OpenAPI /docs page) and its limits."""

from __future__ import annotations

try:
    from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("lookright.serving needs the web extras: pip install 'lookright[serve]'") from exc

from . import defaults


class TagRequest(BaseModel):
    """Body of POST /v1/tag. Strict types: a number is not silently turned into a text."""

    model_config = ConfigDict(extra="forbid")

    texts: list[StrictStr] = Field(
        min_length=1, description="Raw texts to tag; each is split into sentences and words, offsets kept."
    )
    include_words: StrictBool = Field(False, description="Also return every word with its label and score.")


class Span(BaseModel):
    start: int = Field(description="Offset of the span's first character in the text (0-based, in Unicode code points).")
    end: int = Field(description="Offset just past its last character: text[start:end] == span.text.")
    label: str
    text: str
    score: float = Field(description="Mean probability of the span's word labels.")


class Word(BaseModel):
    text: str
    start: int
    end: int
    label: str = Field(description="The word's tag in the model's scheme (e.g. B-PER).")
    score: float = Field(description="Probability of that tag.")


class TagResult(BaseModel):
    text: str
    spans: list[Span]
    words: list[Word] | None = Field(None, description="Present only when include_words is true.")


class TagResponse(BaseModel):
    results: list[TagResult] = Field(description="One result per input text, in input order.")


class Limits(BaseModel):
    """What one request may hold and how requests are batched; shown by /health so clients can adapt."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_texts: int = Field(ge=1, description="Most texts in one request.")
    max_chars: int = Field(ge=1, description="Most characters in one text.")
    max_words: int = Field(ge=1, description="Most words in one request, all texts together (lookright's word splitter).")
    max_body_bytes: int = Field(ge=1, description="Largest request body, in bytes.")
    max_wait_ms: float = Field(ge=0, description="Longest a request waits for others to share its model call.")
    max_batch_texts: int = Field(ge=1, description="Most texts, or pieces of texts, in one model call.")
    max_batch_words: int = Field(
        ge=1, description="Most words in one model call (a single longer sentence runs alone): what a short "
        "request arriving behind a long one waits for.",
    )
    piece_words: int = Field(
        ge=0, description="Longer texts are tagged in pieces of whole sentences of at most this many words, taking "
        "turns with other requests; results are those of the whole text. 0: texts are never cut.",
    )


class Health(BaseModel):
    status: str
    model: str
    labels: list[str]
    scheme: str
    batches_run: int = Field(description="Model calls made so far; fewer than requests_served when batching helps.")
    requests_served: int
    requests_cancelled: int = Field(description="Requests dropped because their client disconnected first.")
    texts_tagged: int
    pieces_tagged: int = Field(description="Model inputs tagged: short texts, and the pieces of long ones.")
    limits: Limits


class ErrorResponse(BaseModel):
    detail: str = Field(description="What was wrong, in words meant for the client's developer.")


def make_limits(
    max_texts: int = defaults.MAX_TEXTS,
    max_chars: int = defaults.MAX_CHARS,
    max_wait_ms: float = defaults.MAX_WAIT_MS,
    max_batch_texts: int = defaults.MAX_BATCH_TEXTS,
    max_body_bytes: int | None = None,
    *,
    max_words: int = defaults.MAX_WORDS,
    max_batch_words: int = defaults.MAX_BATCH_WORDS,
    piece_words: int = defaults.PIECE_WORDS,
) -> Limits:
    """Checked limits (defaults: `serving.defaults`). The default body limit fits `max_texts` texts
    of `max_chars` characters even when every character is a 6-byte \\uXXXX escape (what
    `json.dumps` writes for non-ASCII by default)."""
    if max_body_bytes is None:
        max_body_bytes = max_texts * (6 * max_chars + 16) + 4096
    return Limits(
        max_texts=max_texts, max_chars=max_chars, max_words=max_words, max_body_bytes=max_body_bytes,
        max_wait_ms=max_wait_ms, max_batch_texts=max_batch_texts, max_batch_words=max_batch_words,
        piece_words=piece_words,
    )

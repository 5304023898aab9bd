"""`lookright serve`: an HTTP service with request limits and micro-batching."""

from __future__ import annotations

from typing import Annotated

from ..serving import defaults
from .common import ModelDir, Opt, ScorePrecision, ScoreQuantize, app


@app.command()
def serve(
    model: ModelDir,
    host: Annotated[str, Opt("--host")] = "127.0.0.1",
    port: Annotated[int, Opt("--port")] = 8080,
    max_texts: Annotated[int, Opt("--max-texts", help="Most texts per request.")] = defaults.MAX_TEXTS,
    max_chars: Annotated[int, Opt("--max-chars", help="Longest text accepted, in characters.")] = defaults.MAX_CHARS,
    max_words: Annotated[
        int, Opt("--max-words", help="Most words in one request, all its texts together.")
    ] = defaults.MAX_WORDS,
    max_wait_ms: Annotated[
        float, Opt("--max-wait-ms", help="How long a request waits to share a batch.")
    ] = defaults.MAX_WAIT_MS,
    piece_words: Annotated[
        int,
        Opt("--piece-words", help="Tag longer texts in pieces of whole sentences of at most N words, taking turns "
            "with other requests (0: never cut)."),
    ] = defaults.PIECE_WORDS,
    max_batch_words: Annotated[
        int, Opt("--max-batch-words", help="Most words in one model call: about what a short request waits behind a long one.")
    ] = defaults.MAX_BATCH_WORDS,
    precision: ScorePrecision = "auto",
    quantize: ScoreQuantize = "auto",
) -> None:
    """HTTP service: POST /v1/tag {"texts": [...]}, GET /health, OpenAPI docs at /docs."""
    from ..serving import serve as run_server

    run_server(
        model, host=host, port=port, precision=precision, quantize=quantize, max_texts=max_texts,
        max_chars=max_chars, max_words=max_words, max_wait_ms=max_wait_ms, piece_words=piece_words,
        max_batch_words=max_batch_words,
    )

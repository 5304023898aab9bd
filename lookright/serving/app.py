"""The HTTP service: `create_app(tagger)` builds a FastAPI app, `serve(model_dir)` runs it with uvicorn.

Two concerns shape it. Robustness: whatever a client sends (not JSON, not UTF-8, a million texts,
a number where a string belongs) gets a 4xx that says what to fix, and a model failure gets a
500 with a message, never a dead server. Throughput: a forward pass over many short texts costs
little more than over one, so concurrent requests are queued and tagged together by one
background worker (`MicroBatcher`); each request still gets exactly the results it would get alone.
Fairness: long texts are tagged in pieces of whole sentences that take turns with other requests,
so a short request never waits for a long one's whole compute, and a request whose client has
disconnected is dropped, with the pieces it had not reached yet.
"""

from __future__ import annotations

import asyncio
import codecs
import json
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Any

try:
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse
    from pydantic import ValidationError
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("lookright.serving needs the web extras: pip install 'lookright[serve]'") from exc

from .. import __version__
from ..errors import DataError, LookrightError
from ..inference import TaggedText, Tagger
from . import defaults
from .batching import MicroBatcher
from .errors import ApiError
from .pieces import plan_request
from .schemas import ErrorResponse, Health, Limits, TagRequest, TagResponse, make_limits

log = logging.getLogger(__name__)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse({"detail": exc.message}, status_code=exc.status)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Starlette logs the traceback and the server keeps running; the client learns what broke.
    return JSONResponse({"detail": f"internal server error: {type(exc).__name__}: {exc}"}, status_code=500)


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it is known to exceed `limit` (never buffered whole)."""
    too_large = f"request body is larger than the limit of {limit} bytes (max_body_bytes); send fewer or shorter texts"
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiError(413, too_large)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, too_large)
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_json(body: bytes) -> Any:
    if not body.strip():
        raise ApiError(400, 'the request body is empty; send JSON like {"texts": ["..."]}')
    body = body.removeprefix(codecs.BOM_UTF8)  # RFC 8259 lets a parser ignore a UTF-8 byte order mark
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(
            400, f"the request body is not valid UTF-8 (byte 0x{body[exc.start]:02x} at offset {exc.start}); "
            "send JSON encoded as UTF-8",
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"the request body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except (ValueError, RecursionError) as exc:  # e.g. nesting too deep, an integer too long
        raise ApiError(400, f"the request body is not valid JSON: {exc}") from None


def _json_type(value: Any) -> str:
    names = {list: "array", str: "string", bool: "boolean", int: "number", float: "number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def _validate(payload: Any, limits: Limits) -> TagRequest:
    if not isinstance(payload, dict):
        raise ApiError(422, f'the body must be a JSON object like {{"texts": ["..."]}}, not a JSON {_json_type(payload)}')
    texts = payload.get("texts")
    if isinstance(texts, list) and len(texts) > limits.max_texts:  # before checking a million items one by one
        raise ApiError(
            413, f"too many texts: {len(texts)} in one request, the limit is {limits.max_texts} (max_texts); "
            "split them over several requests",
        )
    try:
        request = TagRequest.model_validate(payload)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        problems = [f"{_where(e['loc'])}: {e['msg']}" for e in errors[:5]]
        if len(errors) > 5:
            problems.append(f"and {len(errors) - 5} more")
        raise ApiError(422, "invalid request: " + "; ".join(problems)) from None
    for i, text in enumerate(request.texts):
        if len(text) > limits.max_chars:
            raise ApiError(
                413, f"texts[{i}] has {len(text)} characters, the limit is {limits.max_chars} (max_chars); "
                "split long documents",
            )
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ApiError(
                422, f"texts[{i}] holds an unpaired surrogate (a lone \\uXXXX escape) at character {exc.start}"
            ) from None
    return request


def _result(tagged: TaggedText, include_words: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"text": tagged.text, "spans": [asdict(span) for span in tagged.spans]}
    if include_words:
        out["words"] = [asdict(word) for word in tagged.words]
    return out


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "The body is not UTF-8 JSON."},
    413: {"model": ErrorResponse, "description": "Too many texts or words, a text too long, or a body too large."},
    422: {"model": ErrorResponse, "description": "Valid JSON of the wrong shape."},
    500: {"model": ErrorResponse, "description": "The model failed; the message says how."},
    503: {"model": ErrorResponse, "description": "The server is shutting down."},
}


def create_app(
    tagger: Tagger,
    *,
    max_texts: int = defaults.MAX_TEXTS,
    max_chars: int = defaults.MAX_CHARS,
    max_wait_ms: float = defaults.MAX_WAIT_MS,
    max_batch_texts: int = defaults.MAX_BATCH_TEXTS,
    max_body_bytes: int | None = None,
    max_words: int = defaults.MAX_WORDS,
    max_batch_words: int = defaults.MAX_BATCH_WORDS,
    piece_words: int = defaults.PIECE_WORDS,
    disconnect_poll_ms: float = 50,
    model_name: str | None = None,
) -> FastAPI:
    """A FastAPI app serving `tagger`: GET /health, POST /v1/tag, docs at /docs.

    `model_name` is what /health reports (default: the card's base model). Batching state lives
    in `app.state.batcher`; its worker starts with the app's lifespan. Every `disconnect_poll_ms`
    a waiting request checks that its client is still connected; if not, its work is dropped.
    """
    limits = make_limits(
        max_texts, max_chars, max_wait_ms, max_batch_texts, max_body_bytes,
        max_words=max_words, max_batch_words=max_batch_words, piece_words=piece_words,
    )
    batcher = MicroBatcher(
        tagger.predict, max_wait_ms=limits.max_wait_ms, max_batch_texts=limits.max_batch_texts,
        max_batch_words=limits.max_batch_words, piece_words=limits.piece_words,
    )
    name = model_name or str(tagger.card.base_model)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        batcher.start()
        try:
            yield
        finally:
            await batcher.stop()

    app = FastAPI(
        title="lookright",
        version=__version__,
        description="Sequence labelling with a decoder LLM: raw text in, labelled character-offset spans out.",
        lifespan=lifespan,
    )
    app.state.tagger = tagger
    app.state.batcher = batcher
    app.state.limits = limits
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(Exception, _unexpected)

    # The body is read and checked by hand (to answer non-UTF-8, bad JSON and oversize bodies with
    # clear 4xx messages), so the documented schema is attached explicitly, with the live limits.
    schema = TagRequest.model_json_schema()
    schema["properties"]["texts"]["maxItems"] = limits.max_texts
    schema["properties"]["texts"]["items"]["maxLength"] = limits.max_chars
    request_body = {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}

    @app.get("/health", response_model=Health, summary="Liveness, the model's labels, batching counters")
    async def health() -> Health:
        return Health(
            status="ok", model=name, labels=list(tagger.labels), scheme=tagger.scheme,
            batches_run=batcher.batches_run, requests_served=batcher.requests_served,
            requests_cancelled=batcher.requests_cancelled, texts_tagged=batcher.texts_tagged,
            pieces_tagged=batcher.pieces_tagged, limits=limits,
        )

    @app.post(
        "/v1/tag", response_model=TagResponse, responses=_ERRORS, openapi_extra=request_body,
        summary="Tag texts: labelled spans with character offsets",
    )
    async def tag(request: Request) -> JSONResponse:
        payload = _validate(_parse_json(await _read_body(request, limits.max_body_bytes)), limits)
        # words are counted (and long texts cut into pieces) off the event loop: up to max_words of splitting
        plans = await asyncio.get_running_loop().run_in_executor(
            None, plan_request, payload.texts, limits.piece_words, limits.max_words
        )
        try:
            tagged = await batcher.submit(
                payload.texts, plans=plans, disconnected=request.is_disconnected, poll_s=disconnect_poll_ms / 1000
            )
        except ApiError:
            raise
        except DataError as exc:
            raise ApiError(422, str(exc)) from None
        except LookrightError as exc:
            log.exception("tagging failed")
            raise ApiError(500, f"tagging failed: {exc}") from None
        except Exception as exc:
            log.exception("tagging failed")
            raise ApiError(500, f"tagging failed: {type(exc).__name__}: {exc}") from None
        return JSONResponse({"results": [_result(t, payload.include_words) for t in tagged]})

    return app


def serve(
    model_dir: str | os.PathLike,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    device: str | None = None,
    precision: str = "auto",
    quantize: str = "auto",
    log_level: str = "info",
    **limits: Any,
) -> None:
    """Load the model in `model_dir` and serve it until interrupted.

    `limits` are create_app's keywords (max_texts, max_chars, max_words, max_wait_ms, max_batch_texts,
    max_batch_words, piece_words, max_body_bytes); they are checked before the (slow) model load so
    a typo fails at once.
    """
    try:
        import uvicorn
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("lookright serve needs uvicorn: pip install 'lookright[serve]'") from exc

    make_limits(**limits)
    tagger = Tagger.load(model_dir, device=device, precision=precision, quantize=quantize)
    app = create_app(tagger, model_name=str(model_dir), **limits)
    uvicorn.run(app, host=host, port=port, log_level=log_level)

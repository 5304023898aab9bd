"""The HTTP service: `create_app(tagger)` builds a FastAPI app, `serve(model_dir)` runs it with uvicorn.

Two concerns shape it. Robustness: whatever a client sends (not JSON, not UTF-8, a million texts,
a number where a string belongs) gets a 4xx that says what to fix, and a model failure gets a
500 with a message, never a dead server. Throughput: a forward pass over many short texts costs
little more than over one, so concurrent requests are queued and tagged together by one
background worker (`MicroBatcher`); each request still gets exactly the results it would get alone.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import json
import logging
import os
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from typing import Any

try:
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse
    from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, ValidationError
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("lookright.serving needs the web extras: pip install 'lookright[serve]'") from exc

from .. import __version__
from ..errors import DataError, LookrightError
from ..inference import TaggedText, Tagger

log = logging.getLogger(__name__)

Predict = Callable[[list[str]], list[TaggedText]]


# --------------------------------------------------------------------------- schemas (also the /docs page)


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
    max_body_bytes: int = Field(ge=1, description="Largest request body, in bytes.")
    max_wait_ms: float = Field(ge=0, description="Longest a request waits for others to share its model call.")
    max_batch_texts: int = Field(ge=1, description="Most texts in one model call (a larger request runs alone).")


class Health(BaseModel):
    status: str
    model: str
    labels: list[str]
    scheme: str
    batches_run: int = Field(description="Model calls made so far; fewer than requests_served when batching helps.")
    requests_served: int
    texts_tagged: int
    limits: Limits


class ErrorResponse(BaseModel):
    detail: str = Field(description="What was wrong, in words meant for the client's developer.")


def make_limits(
    max_texts: int = 64,
    max_chars: int = 100_000,
    max_wait_ms: float = 5,
    max_batch_texts: int = 64,
    max_body_bytes: int | None = None,
) -> Limits:
    """Checked limits. The default body limit fits `max_texts` texts of `max_chars` characters even
    when every character is a 6-byte \\uXXXX escape (what `json.dumps` writes for non-ASCII by default)."""
    if max_body_bytes is None:
        max_body_bytes = max_texts * (6 * max_chars + 16) + 4096
    return Limits(
        max_texts=max_texts, max_chars=max_chars, max_body_bytes=max_body_bytes,
        max_wait_ms=max_wait_ms, max_batch_texts=max_batch_texts,
    )


# --------------------------------------------------------------------------- errors


class ApiError(Exception):
    """A request the service refuses or cannot serve: the HTTP status and the message the client sees."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse({"detail": exc.message}, status_code=exc.status)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Starlette logs the traceback and the server keeps running; the client learns what broke.
    return JSONResponse({"detail": f"internal server error: {type(exc).__name__}: {exc}"}, status_code=500)


# --------------------------------------------------------------------------- micro-batching


@dataclass(eq=False)
class _Job:
    texts: list[str]
    future: asyncio.Future[list[TaggedText]]


class MicroBatcher:
    """Queues concurrent requests and tags them together, so one model call serves many requests.

    A single worker task takes the first waiting request, then gathers more for up to
    `max_wait_ms` or until `max_batch_texts` texts, and calls `predict` once on all their texts.
    The call runs on one dedicated thread, one at a time: a torch model is not safe to call from
    several threads, and the event loop stays free to accept and validate requests meanwhile.
    When idle a request waits at most `max_wait_ms`; under load the wait is spent anyway queueing
    behind the running call. If a shared call fails, its requests are retried one by one, so one
    bad request cannot fail the others that happened to share its batch.
    """

    def __init__(self, predict: Predict, *, max_wait_ms: float = 5, max_batch_texts: int = 64) -> None:
        if max_wait_ms < 0 or max_batch_texts < 1:
            raise ValueError("max_wait_ms must be >= 0 and max_batch_texts >= 1")
        self._predict = predict
        self.max_wait = max_wait_ms / 1000
        self.max_batch_texts = max_batch_texts
        self.batches_run = 0  # model calls made (failed ones included)
        self.requests_served = 0
        self.texts_tagged = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[_Job] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._held: _Job | None = None  # a request that did not fit the last batch: it opens the next
        self._running: list[_Job] = []

    def start(self) -> None:
        """Start the worker on the running loop; idempotent (and restarts it on a new loop, as test
        clients that run each request in a fresh loop need)."""
        loop = asyncio.get_running_loop()
        if self._worker is not None and not self._worker.done() and self._loop is loop:
            return
        self._loop, self._queue, self._held, self._running = loop, asyncio.Queue(), None, []
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lookright-model")
        self._worker = loop.create_task(self._run(), name="lookright-batcher")

    async def stop(self) -> None:
        """Stop the worker; requests still waiting get a 503 instead of hanging forever."""
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        waiting = list(self._running) + ([self._held] if self._held else [])
        while self._queue is not None and not self._queue.empty():
            waiting.append(self._queue.get_nowait())
        for job in waiting:
            if not job.future.done():
                job.future.set_exception(ApiError(503, "the server is shutting down; retry later"))
        self._held, self._running = None, []
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None

    async def submit(self, texts: Sequence[str]) -> list[TaggedText]:
        """Tag `texts` as part of the next batch; results in input order."""
        self.start()
        assert self._queue is not None
        job = _Job(list(texts), asyncio.get_running_loop().create_future())
        self._queue.put_nowait(job)
        return await job.future

    async def _run(self) -> None:
        while True:
            batch = await self._gather()
            try:
                await self._execute(batch)
            except Exception as exc:  # a bug here must not kill the worker and hang every later request
                log.exception("micro-batcher failed")
                for job in batch:
                    if not job.future.done():
                        job.future.set_exception(exc)
            finally:
                self._running = []

    async def _gather(self) -> list[_Job]:
        assert self._queue is not None
        queue, loop = self._queue, asyncio.get_running_loop()
        first = self._held or await queue.get()
        self._held = None
        batch, size = [first], len(first.texts)
        deadline = loop.time() + self.max_wait
        while size < self.max_batch_texts:
            try:
                job = queue.get_nowait()
            except asyncio.QueueEmpty:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    job = await asyncio.wait_for(queue.get(), remaining)
                except TimeoutError:
                    break
            if job.future.done():  # its client went away
                continue
            if size + len(job.texts) > self.max_batch_texts:
                self._held = job
                break
            batch.append(job)
            size += len(job.texts)
        return batch

    async def _execute(self, batch: list[_Job]) -> None:
        jobs = [job for job in batch if not job.future.done()]
        if not jobs:
            return
        self._running = jobs
        try:
            results = await self._call([text for job in jobs for text in job.texts])
        except Exception as exc:  # noqa: BLE001 - whatever the model raised goes to its requests
            if len(jobs) == 1:
                self._settle(jobs[0], exc)
                return
            for job in jobs:  # isolate the request that broke the shared call
                if job.future.done():
                    continue
                try:
                    self._settle(job, await self._call(job.texts))
                except Exception as single:  # noqa: BLE001 - likewise, per request
                    self._settle(job, single)
            return
        start = 0
        for job in jobs:
            self._settle(job, results[start : start + len(job.texts)])
            start += len(job.texts)

    async def _call(self, texts: list[str]) -> list[TaggedText]:
        self.batches_run += 1
        loop = asyncio.get_running_loop()
        results = await loop.run_in_executor(self._executor, self._predict, texts)
        if len(results) != len(texts):
            raise RuntimeError(f"the tagger returned {len(results)} results for {len(texts)} texts")
        self.texts_tagged += len(texts)
        return results

    def _settle(self, job: _Job, outcome: list[TaggedText] | Exception) -> None:
        if job.future.done():
            return
        if isinstance(outcome, Exception):
            job.future.set_exception(outcome)
        else:
            job.future.set_result(outcome)
            self.requests_served += 1


# --------------------------------------------------------------------------- request handling


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
    413: {"model": ErrorResponse, "description": "Too many texts, a text too long, or a body too large."},
    422: {"model": ErrorResponse, "description": "Valid JSON of the wrong shape."},
    500: {"model": ErrorResponse, "description": "The model failed; the message says how."},
    503: {"model": ErrorResponse, "description": "The server is shutting down."},
}


def create_app(
    tagger: Tagger,
    *,
    max_texts: int = 64,
    max_chars: int = 100_000,
    max_wait_ms: float = 5,
    max_batch_texts: int = 64,
    max_body_bytes: int | None = None,
    model_name: str | None = None,
) -> FastAPI:
    """A FastAPI app serving `tagger`: GET /health, POST /v1/tag, docs at /docs.

    `model_name` is what /health reports (default: the card's base model). Batching state lives
    in `app.state.batcher`; its worker starts with the app's lifespan.
    """
    limits = make_limits(max_texts, max_chars, max_wait_ms, max_batch_texts, max_body_bytes)
    batcher = MicroBatcher(tagger.predict, max_wait_ms=limits.max_wait_ms, max_batch_texts=limits.max_batch_texts)
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
            texts_tagged=batcher.texts_tagged, limits=limits,
        )

    @app.post(
        "/v1/tag", response_model=TagResponse, responses=_ERRORS, openapi_extra=request_body,
        summary="Tag texts: labelled spans with character offsets",
    )
    async def tag(request: Request) -> JSONResponse:
        payload = _validate(_parse_json(await _read_body(request, limits.max_body_bytes)), limits)
        try:
            tagged = await batcher.submit(payload.texts)
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
    log_level: str = "info",
    **limits: Any,
) -> None:
    """Load the model in `model_dir` and serve it until interrupted.

    `limits` are create_app's keywords (max_texts, max_chars, max_wait_ms, max_batch_texts,
    max_body_bytes); they are checked before the (slow) model load so a typo fails at once.
    """
    try:
        import uvicorn
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("lookright serve needs uvicorn: pip install 'lookright[serve]'") from exc

    make_limits(**limits)
    tagger = Tagger.load(model_dir, device=device)
    app = create_app(tagger, model_name=str(model_dir), **limits)
    uvicorn.run(app, host=host, port=port, log_level=log_level)

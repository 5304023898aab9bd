"""Micro-batching with fair turns: concurrent requests share model calls, a huge request cannot block
the others, a request whose client has gone stops costing compute; each request still gets exactly
its own results."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ..inference import TaggedText
from . import defaults
from .errors import ApiError
from .pieces import Piece, merge, plan_request

log = logging.getLogger(__name__)

Predict = Callable[[list[str]], list[TaggedText]]
Disconnected = Callable[[], Awaitable[bool]]
INLINE_PLAN_CHARS = 10_000  # texts this short are cut into pieces on the event loop (a few ms)


@dataclass(eq=False)
class _Job:
    """One request: its texts, the pieces not yet scheduled, and the finished pieces' results."""

    texts: list[str]
    future: asyncio.Future[list[TaggedText]]
    waiting: deque[_Task] = field(default_factory=deque)
    parts: list[list[tuple[int, TaggedText]]] = field(default_factory=list)
    left: int = 0  # pieces not finished yet

    @property
    def over(self) -> bool:
        """Answered, failed, or given up by its client (the future is cancelled then)."""
        return self.future.done()


@dataclass(eq=False)
class _Task:
    """One piece of one text of a job: what a model call tags."""

    job: _Job
    index: int
    piece: Piece

    @property
    def text(self) -> str:
        return self.job.texts[self.index][self.piece.start : self.piece.end]


class MicroBatcher:
    """Tags the pieces of queued requests together, taking turns between requests.

    Each text is cut into pieces of whole sentences (`pieces.plan_text`, at most `piece_words`
    words each, exact: the merged result equals the whole text's). One worker task forms each model
    call in rounds over the waiting requests (least recently served first), each round giving each
    request up to `piece_words` words, until `max_batch_texts` pieces or `max_batch_words` words, so
    a short request arriving behind a huge one waits about one call, not the huge one's compute. When idle it first waits up to
    `max_wait_ms` for more requests to share the call. Calls run on one dedicated thread, one at a
    time: a torch model is not safe to call from several threads, and the event loop stays free to
    accept, validate and cancel requests meanwhile. If a shared call fails, each of its requests'
    pieces are retried on their own, so one bad request cannot fail the others. A request whose
    future is cancelled (its client disconnected) gets no further pieces scheduled.
    """

    def __init__(
        self,
        predict: Predict,
        *,
        max_wait_ms: float = defaults.MAX_WAIT_MS,
        max_batch_texts: int = defaults.MAX_BATCH_TEXTS,
        max_batch_words: int = defaults.MAX_BATCH_WORDS,
        piece_words: int = defaults.PIECE_WORDS,
    ) -> None:
        if max_wait_ms < 0 or max_batch_texts < 1 or max_batch_words < 1:
            raise ValueError("max_wait_ms must be >= 0, max_batch_texts and max_batch_words >= 1")
        self._predict = predict
        self.max_wait = max_wait_ms / 1000
        self.max_batch_texts = max_batch_texts
        self.max_batch_words = max_batch_words
        self.piece_words = piece_words
        self.batches_run = 0  # model calls made (failed ones included)
        self.requests_served = 0
        self.requests_cancelled = 0  # given up by their clients before their results were ready
        self.texts_tagged = 0
        self.pieces_tagged = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[_Job] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._active: deque[_Job] = deque()  # jobs with pieces to schedule, in turn order
        self._running: list[_Job] = []

    def start(self) -> None:
        """Start the worker on the running loop; idempotent (and restarts it on a new loop, as test
        clients that run each request in a fresh loop need)."""
        loop = asyncio.get_running_loop()
        if self._worker is not None and not self._worker.done() and self._loop is loop:
            return
        self._loop, self._queue, self._active, self._running = loop, asyncio.Queue(), deque(), []
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
        waiting = list(self._running) + list(self._active)
        while self._queue is not None and not self._queue.empty():
            waiting.append(self._queue.get_nowait())
        for job in waiting:
            if not job.future.done():
                job.future.set_exception(ApiError(503, "the server is shutting down; retry later"))
        self._active, self._running = deque(), []
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None

    async def submit(
        self,
        texts: Sequence[str],
        *,
        plans: Sequence[Sequence[Piece]] | None = None,
        disconnected: Disconnected | None = None,
        poll_s: float = 0.05,
    ) -> list[TaggedText]:
        """Tag `texts`; results in input order.

        `plans` are the texts' pieces when the caller has them already (`pieces.plan_request`);
        `disconnected()` is polled every `poll_s` while the request waits or runs, and when it says
        the client is gone the request is dropped (`ApiError` 499). Cancelling the awaiting task
        drops it too.
        """
        self.start()
        assert self._queue is not None
        if plans is None and sum(map(len, texts)) <= INLINE_PLAN_CHARS:
            plans = plan_request(texts, self.piece_words)
        elif plans is None:  # splitting ~100,000 characters takes ~70 ms: not on the event loop
            plans = await asyncio.get_running_loop().run_in_executor(None, plan_request, list(texts), self.piece_words)
        job = _Job(list(texts), asyncio.get_running_loop().create_future())
        job.parts = [[] for _ in job.texts]
        job.waiting.extend(_Task(job, i, piece) for i, plan in enumerate(plans) for piece in plan)
        job.left = len(job.waiting)
        if not job.waiting:
            return []
        self._queue.put_nowait(job)
        try:
            while disconnected is not None and not job.future.done():
                await asyncio.wait([job.future], timeout=poll_s)
                if not job.future.done() and await disconnected():
                    raise ApiError(499, "the client closed the connection before its results were ready")
            return await job.future
        finally:  # a cancelled await cancels the future too; either way the worker skips the job now
            if not job.future.done():
                job.future.cancel()
            if job.future.cancelled():
                self.requests_cancelled += 1

    async def _run(self) -> None:
        while True:
            await self._collect()
            batch = self._take()
            if not batch:
                continue
            try:
                await self._execute(batch)
            except Exception as exc:  # a bug here must not kill the worker and hang every later request
                log.exception("micro-batcher failed")
                for task in batch:
                    self._fail(task.job, exc)
            finally:
                self._running = []

    async def _collect(self) -> None:
        """Admit arrived requests. When nothing is running, wait for one, then up to `max_wait` for
        more to share its call; with work in hand, take only what has already arrived."""
        assert self._queue is not None
        queue, loop = self._queue, asyncio.get_running_loop()
        self._active = deque(job for job in self._active if job.waiting and not job.over)
        if not self._active:
            self._admit(await queue.get())
            deadline = loop.time() + self.max_wait
            while not self._full():
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    self._admit(await asyncio.wait_for(queue.get(), remaining))
                except TimeoutError:
                    break
        while not queue.empty():
            self._admit(queue.get_nowait())

    def _admit(self, job: _Job) -> None:
        if not job.over:  # its client may have gone while it was queued
            self._active.append(job)

    def _full(self) -> bool:
        waiting = [task for job in self._active for task in job.waiting]
        return len(waiting) >= self.max_batch_texts or sum(t.piece.words for t in waiting) >= self.max_batch_words

    def _take(self) -> list[_Task]:
        """The next call, in rounds over the requests in turn order: each round gives each request
        pieces of up to `piece_words` words (at least one piece: a request of short texts goes in
        whole, a long text one piece at a time), within the call's caps (a piece larger than
        `max_batch_words` goes alone). Requests served move to the back of the turn."""
        quantum = self.piece_words if self.piece_words > 0 else self.max_batch_words
        batch: list[_Task] = []
        words, served, added = 0, [], True
        while added:
            added = False
            for job in self._active:
                turn = 0
                while job.waiting and not job.over and len(batch) < self.max_batch_texts:
                    size = job.waiting[0].piece.words
                    if (batch and words + size > self.max_batch_words) or (turn and turn + size > quantum):
                        break
                    batch.append(job.waiting.popleft())
                    words, turn, added = words + size, turn + size, True
                    if job not in served:
                        served.append(job)
        rest = [job for job in self._active if job not in served]
        self._active = deque(rest + [job for job in served if job.waiting])
        return batch

    async def _execute(self, batch: list[_Task]) -> None:
        tasks = [task for task in batch if not task.job.over]
        if not tasks:
            return
        jobs = list(dict.fromkeys(task.job for task in tasks))
        self._running = jobs
        try:
            results = await self._call([task.text for task in tasks])
        except Exception as exc:  # noqa: BLE001 - whatever the model raised goes to its requests
            if len(jobs) == 1:
                self._fail(jobs[0], exc)
                return
            for job in jobs:  # isolate the request that broke the shared call
                own = [task for task in tasks if task.job is job]
                if job.over:
                    continue
                try:
                    self._deliver(own, await self._call([task.text for task in own]))
                except Exception as single:  # noqa: BLE001 - likewise, per request
                    self._fail(job, single)
            return
        self._deliver(tasks, results)

    async def _call(self, texts: list[str]) -> list[TaggedText]:
        self.batches_run += 1
        loop = asyncio.get_running_loop()
        results = await loop.run_in_executor(self._executor, self._predict, texts)
        if len(results) != len(texts):
            raise RuntimeError(f"the tagger returned {len(results)} results for {len(texts)} texts")
        self.pieces_tagged += len(texts)
        return results

    def _deliver(self, tasks: Sequence[_Task], results: Sequence[TaggedText]) -> None:
        for task, result in zip(tasks, results):
            job = task.job
            if job.over:
                continue
            job.parts[task.index].append((task.piece.start, result))
            job.left -= 1
            if job.left == 0:
                merged = [merge(text, sorted(parts, key=lambda p: p[0])) for text, parts in zip(job.texts, job.parts)]
                job.future.set_result(merged)
                self.requests_served += 1
                self.texts_tagged += len(job.texts)

    def _fail(self, job: _Job, error: Exception) -> None:
        job.waiting.clear()
        if not job.future.done():
            job.future.set_exception(error)

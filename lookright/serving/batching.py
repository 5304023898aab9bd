"""Micro-batching: concurrent requests share one model call, each still gets exactly its own results."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..inference import TaggedText
from .errors import ApiError

log = logging.getLogger(__name__)

Predict = Callable[[list[str]], list[TaggedText]]


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

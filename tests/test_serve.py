"""The HTTP service over real HTTP: a uvicorn server on a free port, urllib clients, a trained model.

The batcher's own rules (batch cap, order, failure isolation) are also checked with a fake model,
which is fast and makes failures happen on demand.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.client import HTTPConnection
from types import SimpleNamespace

import pytest
import uvicorn
from fastapi.testclient import TestClient

from lookright.errors import LookrightError
from lookright.inference import TaggedSpan, TaggedText, TaggedWord, Tagger
from lookright.serving import MicroBatcher, create_app, serve

# Local requests must never go through an HTTP proxy set in the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

TEXTS = [
    "John Smith works for Acme Corp. in New York.",
    "EU rejects German call to boycott British lamb. Peter Blackburn reported it from Brussels on Monday.",
    "  Zürich, 東京 and an emoji 😀 : offsets count code points , not bytes  ",
    "",
]


class CountingTagger:
    """The real tagger, recording each predict call so tests count model calls without trusting the server."""

    def __init__(self, tagger: Tagger) -> None:
        self.tagger = tagger
        self.calls: list[list[str]] = []

    def predict(self, texts):
        self.calls.append(list(texts))
        return self.tagger.predict(texts)

    def __getattr__(self, name):
        return getattr(self.tagger, name)


@contextmanager
def running(app) -> Iterator[str]:
    """A real uvicorn server for `app` on a free local port, in a background thread."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()
        assert not thread.is_alive(), "uvicorn did not shut down"


def http(url: str, body=None, *, raw: bytes | None = None) -> tuple[int, dict]:
    """GET (no body) or POST JSON; returns the status and the decoded JSON answer, errors included."""
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="GET" if data is None else "POST")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with _OPENER.open(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def same_results(got: list[dict], expected: list[TaggedText]) -> None:
    """Labels and offsets exactly equal; scores equal up to float noise from padding in a shared batch."""
    assert len(got) == len(expected)
    for result, want in zip(got, expected):
        assert result["text"] == want.text
        for key, items in (("spans", want.spans), ("words", want.words)):
            if key not in result:
                continue
            assert [{k: v for k, v in x.items() if k != "score"} for x in result[key]] == [
                {k: v for k, v in vars(x).items() if k != "score"} for x in items
            ]
            assert [x["score"] for x in result[key]] == pytest.approx([x.score for x in items], abs=2e-3)


@pytest.fixture(scope="module")
def tagger(trained_dir) -> CountingTagger:
    return CountingTagger(Tagger.load(trained_dir))


@pytest.fixture(scope="module")
def server(tagger) -> Iterator[str]:
    app = create_app(tagger, max_texts=8, max_chars=2000, max_wait_ms=50, model_name="tiny-test-model")
    with running(app) as url:
        yield url


def test_health_describes_the_model_and_limits(server, tagger):
    status, health = http(server + "/health")
    assert status == 200
    assert health["status"] == "ok" and health["model"] == "tiny-test-model"
    assert health["labels"] == tagger.labels and health["scheme"] == tagger.scheme
    assert health["limits"]["max_texts"] == 8 and health["limits"]["max_chars"] == 2000
    assert isinstance(health["batches_run"], int)


def test_tagging_over_http_equals_the_tagger_and_offsets_slice_the_text(server, tagger):
    expected = tagger.tagger.predict(TEXTS)
    status, body = http(server + "/v1/tag", {"texts": TEXTS, "include_words": True})
    assert status == 200
    results = body["results"]
    same_results(results, expected)
    assert sum(len(r["words"]) for r in results) > 30  # the comparison is not vacuous
    for text, result in zip(TEXTS, results):
        for item in result["spans"] + result["words"]:
            assert text[item["start"] : item["end"]] == item["text"]
    assert results[3] == {"text": "", "spans": [], "words": []}

    status, body = http(server + "/v1/tag", {"texts": TEXTS[:2]})
    assert status == 200
    assert all("words" not in r for r in body["results"])  # words only when asked for
    same_results(body["results"], expected[:2])


def test_concurrent_requests_are_batched_and_each_gets_its_own_results(server, tagger):
    requests = [[f"Request {i} : {TEXTS[i % 2]}"] + ([f"Maria Garcia visited Paris {i} times ."] if i % 3 else [])
                for i in range(10)]
    expected = [tagger.tagger.predict(texts) for texts in requests]  # one by one, server idle
    calls_before = len(tagger.calls)
    _, health = http(server + "/health")
    batches_before = health["batches_run"]

    barrier = threading.Barrier(len(requests))

    def send(texts):
        barrier.wait()
        return http(server + "/v1/tag", {"texts": texts, "include_words": True})

    with ThreadPoolExecutor(len(requests)) as pool:
        answers = list(pool.map(send, requests))

    for (status, body), want in zip(answers, expected):
        assert status == 200
        same_results(body["results"], want)
    calls = tagger.calls[calls_before:]
    assert len(calls) < len(requests), f"{len(requests)} requests took {len(calls)} model calls"
    assert sorted(t for call in calls for t in call) == sorted(t for texts in requests for t in texts)
    assert max(len(call) for call in calls) > max(len(texts) for texts in requests)  # requests really shared
    _, health = http(server + "/health")
    assert health["batches_run"] - batches_before == len(calls)


BAD = [
    # (raw body, status, words the message must contain)
    (b'{"texts": []}', 422, "at least 1"),
    (json.dumps({"texts": ["a"] * 9}).encode(), 413, "limit is 8"),
    (json.dumps({"texts": ["ok", "x" * 2001]}).encode(), 413, "texts[1] has 2001 characters, the limit is 2000"),
    (b'{"texts": ["ok", 3, null]}', 422, "texts[1]: Input should be a valid string"),
    (b'{"texts": "one string"}', 422, "texts: Input should be a valid list"),
    (b'{"text": ["a"]}', 422, "texts: Field required"),
    (b'{"texts": ["a"], "include_words": "yes"}', 422, "include_words"),
    (b'["a", "b"]', 422, "JSON object"),
    (b'{"texts": ["a"', 400, "not valid JSON"),
    (b"", 400, "empty"),
    (b'\xff\xfe{\x00"\x00t\x00', 400, "UTF-8"),
    ('{"texts": ["café"]}'.encode("latin-1"), 400, "UTF-8"),
    (b'{"texts": ["\\ud800 lone"]}', 422, "surrogate"),
    (b"[" * 100_000, 400, "not valid JSON"),
    (json.dumps({"texts": ["y" * 1000] * 200}).encode(), 413, "max_body_bytes"),
]


@pytest.mark.parametrize("raw, status, message", BAD, ids=[f"{s}-{m[:20]}" for _, s, m in BAD])
def test_bad_input_gets_a_4xx_that_says_why_and_the_server_lives_on(server, raw, status, message):
    got, body = http(server + "/v1/tag", raw=raw)
    assert got == status, body
    assert message in body["detail"], body
    assert http(server + "/health")[0] == 200
    got, body = http(server + "/v1/tag", {"texts": ["still working ."]})
    assert got == 200 and body["results"][0]["text"] == "still working ."


def test_a_chunked_body_is_cut_off_at_the_limit_without_a_content_length(server):
    host, port = server.removeprefix("http://").split(":")

    def post_chunked(chunks: list[bytes]) -> tuple[int, dict]:
        connection = HTTPConnection(host, int(port), timeout=60)
        try:
            connection.request("POST", "/v1/tag", body=iter(chunks), encode_chunked=True,
                               headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            return response.status, json.loads(response.read())
        finally:
            connection.close()

    status, body = post_chunked([b'{"texts": ["stream', b'ed text ."]}'])
    assert status == 200 and body["results"][0]["text"] == "streamed text ."
    status, body = post_chunked([b'{"texts": ["'] + [b"z" * 1000] * 120 + [b'"]}'])
    assert status == 413 and "max_body_bytes" in body["detail"]
    assert http(server + "/health")[0] == 200


def test_openapi_docs_describe_the_endpoints_and_limits(server):
    status, spec = http(server + "/openapi.json")
    assert status == 200
    body = spec["paths"]["/v1/tag"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["texts"]["maxItems"] == 8
    assert body["properties"]["texts"]["items"]["maxLength"] == 2000
    assert "/health" in spec["paths"] and "TagResponse" in json.dumps(spec)
    with _OPENER.open(server + "/docs", timeout=30) as response:
        assert response.status == 200 and b"swagger" in response.read().lower()


# --------------------------------------------------------------------------- the batcher on a fake model


class FakeModel:
    """Labels every text's first word `X`; `boom` anywhere in a call fails the whole call."""

    labels = ("O", "B-X", "I-X")
    scheme = "IOB2"
    card = SimpleNamespace(base_model="fake")

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def predict(self, texts):
        self.calls.append(list(texts))
        if any("boom" in t for t in texts):
            raise RuntimeError("the model exploded on boom")
        time.sleep(0.01)
        return [TaggedText(t, [TaggedWord(t, 0, len(t), "B-X", 1.0)], [TaggedSpan(0, len(t), "X", t, 1.0)])
                for t in texts]


def test_batcher_caps_texts_per_call_keeps_order_and_isolates_failures():
    model = FakeModel()

    async def scenario():
        batcher = MicroBatcher(model.predict, max_wait_ms=30, max_batch_texts=7)
        batcher.start()
        requests = [[f"r{i}-{k}" for k in range(3)] for i in range(8)] + [["big"] * 10, ["a", "boom"], ["b"]]
        answers = await asyncio.gather(*(batcher.submit(texts) for texts in requests), return_exceptions=True)
        await batcher.stop()
        return batcher, requests, answers

    batcher, requests, answers = asyncio.run(scenario())
    for texts, answer in zip(requests, answers):
        if "boom" in texts:
            assert isinstance(answer, RuntimeError)
        else:
            assert [r.text for r in answer] == texts
    assert all(len(call) <= 7 for call in model.calls)  # a request larger than a call is spread over calls
    assert ["big"] * 10 not in model.calls
    assert len(model.calls) < len(requests) + 2  # batched, even counting the one-by-one retries after "boom"
    assert batcher.batches_run == len(model.calls)
    assert batcher.requests_served == len(requests) - 1


def test_a_model_failure_is_a_500_with_a_message_and_not_a_dead_server():
    with TestClient(create_app(FakeModel())) as client:
        response = client.post("/v1/tag", json={"texts": ["boom"]})
        assert response.status_code == 500 and "exploded" in response.json()["detail"]
        assert client.get("/health").json()["status"] == "ok"
        response = client.post("/v1/tag", json={"texts": ["fine"]})
        assert response.status_code == 200 and response.json()["results"][0]["spans"][0]["label"] == "X"


def test_serve_rejects_bad_limits_before_loading_the_model(tmp_path):
    with pytest.raises(TypeError, match="max_txts"):
        serve(tmp_path, max_txts=3)
    with pytest.raises(ValueError, match="max_texts"):
        serve(tmp_path, max_texts=0)
    with pytest.raises(LookrightError, match="not a lookright model directory"):
        serve(tmp_path, port=0)

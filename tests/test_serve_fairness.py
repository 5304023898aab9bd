"""The server under a long request: exact pieces, fair turns, dropped work of disconnected clients,
a word limit per request.

The real tiny tagger checks that a text tagged in pieces gets exactly its whole-text results; a fake
model whose compute grows with the words it is given makes the scheduling observable.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import time
from types import SimpleNamespace

import pytest
from test_serve import CountingTagger, http, running, same_results

from lookright.data.readers import read_data
from lookright.data.segment import sentence_ranges
from lookright.data.words import split_words
from lookright.inference import TaggedSpan, TaggedText, TaggedWord, Tagger
from lookright.serving import MicroBatcher, create_app, serve
from lookright.serving.pieces import plan_text


class WordModel:
    """Tags capitalised words as X, taking `seconds_per_word` per word it is given (like a real model)."""

    labels = ("O", "B-X", "I-X")
    scheme = "IOB2"
    card = SimpleNamespace(base_model="fake")

    def __init__(self, seconds_per_word: float = 0.0) -> None:
        self.seconds_per_word = seconds_per_word
        self.calls: list[list[str]] = []

    def predict(self, texts):
        self.calls.append(list(texts))
        offsets = [split_words(t) for t in texts]
        time.sleep(self.seconds_per_word * sum(map(len, offsets)))
        out = []
        for text, words in zip(texts, offsets):
            tagged = [TaggedWord(text[s:e], s, e, "B-X" if text[s].isupper() else "O", 1.0) for s, e in words]
            spans = [TaggedSpan(w.start, w.end, "X", w.text, 1.0) for w in tagged if w.label == "B-X"]
            out.append(TaggedText(text, tagged, spans))
        return out


async def calls_reach(model: WordModel, n: int, timeout: float = 20) -> None:
    """Wait until the model has been called `n` times (the huge request is under way)."""
    deadline = time.monotonic() + timeout
    while len(model.calls) < n:
        assert time.monotonic() < deadline, f"only {len(model.calls)} model calls, expected {n}"
        await asyncio.sleep(0.005)


def document(sentences: int, start: int = 0) -> str:
    """Sentences of 6 words each, every sentence's words distinct from every other text's."""
    return " ".join(f"Word{start + k} number {k} is here ." for k in range(sentences))


def test_pieces_are_whole_sentences_that_cover_the_text_and_cut_only_at_whitespace():
    text = document(20) + "\n\nA second paragraph.Glued sentence here . Long " + " ".join(["long"] * 29) + " ."
    offsets = split_words(text)
    pieces = plan_text(text, 12)
    assert len(pieces) > 5
    assert pieces[0].start == 0 and pieces[-1].end == len(text)
    assert all(a.end == b.start for a, b in itertools.pairwise(pieces))  # every character once
    assert sum(p.words for p in pieces) == len(offsets)
    sentence_starts = {offsets[a][0] for a, _ in sentence_ranges(text, offsets)}
    for piece in pieces[1:]:
        assert piece.start in sentence_starts and text[piece.start - 1].isspace()
    assert "paragraph.Glued" in "".join(text[p.start : p.end] for p in pieces if "paragraph" in text[p.start : p.end])
    assert max(p.words for p in pieces) == 31  # the 31-word sentence stays whole; every other piece <= 12
    assert all(p.words <= 12 for p in pieces if p.words != 31)
    assert plan_text(text, 0) == plan_text(text, 10_000) and len(plan_text(text, 0)) == 1


@pytest.fixture(scope="module")
def long_text(conll2003) -> str:
    """60 real sentences as raw text (spaces, line breaks, a paragraph break) plus a 70-word sentence."""
    sentences = [" ".join(s.tokens) for s in read_data(conll2003 / "test.txt", label_column=None)[:60]]
    glue = [" ", "\n", "  ", "\n\n"]
    text = "".join(s + glue[i % 4] for i, s in enumerate(sentences))
    return text + " ".join(["and", "Smith", "of", "London"] * 17 + ["plus", "Paris"]) + " ."


def test_a_text_tagged_in_pieces_gets_exactly_its_whole_text_results(trained_dir, long_text):
    tagger = CountingTagger(Tagger.load(trained_dir))
    expected = tagger.tagger.predict([long_text, "Peter Blackburn reported it ."])
    app = create_app(tagger, max_chars=20_000, piece_words=40, max_batch_words=100, max_wait_ms=20)
    with running(app) as url:
        status, body = http(url + "/v1/tag", {"texts": [long_text, "Peter Blackburn reported it ."], "include_words": True})
        assert status == 200, body
        same_results(body["results"], expected)
        assert len(body["results"][0]["words"]) == len(split_words(long_text)) > 900
        pieces = [t for call in tagger.calls for t in call if t in long_text]
        assert len(pieces) > 10 and "".join(pieces) == long_text  # really tagged in pieces, each once
        assert max(len(call) for call in tagger.calls) > 1
        _, health = http(url + "/health")
        assert health["pieces_tagged"] == len(pieces) + 1 and health["texts_tagged"] == 2


def test_a_short_request_sent_after_a_huge_one_finishes_first_within_two_calls():
    model = WordModel(seconds_per_word=0.002)  # a call of 24 words takes ~50 ms, the huge request ~1.2 s
    huge, short = document(100), "Maria went to Paris ."

    async def scenario():
        batcher = MicroBatcher(model.predict, max_wait_ms=1, piece_words=12, max_batch_words=24)
        batcher.start()
        finished = []

        async def send(texts, name):
            result = await batcher.submit(texts)
            finished.append((name, len(model.calls)))
            return result

        big = asyncio.create_task(send([huge], "huge"))
        await calls_reach(model, 3)
        calls_at_submit = len(model.calls)
        small = await send([short], "short")
        big_result = await big
        await batcher.stop()
        return finished, calls_at_submit, small, big_result

    finished, calls_at_submit, small, big_result = asyncio.run(scenario())
    assert [name for name, _ in finished] == ["short", "huge"]
    assert finished[0][1] - calls_at_submit <= 2  # the running call, then the one it shares
    assert sum(map(len, model.calls)) == 51  # the huge request's 50 pieces and the short one, each once
    assert [s.text for s in small[0].spans] == ["Maria", "Paris"]
    assert [w.text for w in big_result[0].words] == [huge[s:e] for s, e in split_words(huge)]
    assert all(big_result[0].text[s.start : s.end] == s.text for s in big_result[0].spans)


def test_a_disconnected_client_stops_costing_compute(tmp_path):
    model = WordModel(seconds_per_word=0.002)
    huge = document(150)  # 75 pieces of 12 words, ~1.8 s of compute in all
    app = create_app(model, max_chars=20_000, piece_words=12, max_batch_words=24, disconnect_poll_ms=10)
    with running(app) as url:
        host, port = url.removeprefix("http://").split(":")
        body = json.dumps({"texts": [huge]}).encode()
        client = socket.create_connection((host, int(port)))
        client.sendall(b"POST /v1/tag HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                       + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        deadline = time.monotonic() + 20
        while len(model.calls) < 3:
            assert time.monotonic() < deadline, "the huge request never started"
            time.sleep(0.005)
        client.close()  # the client gives up
        while http(url + "/health")[1]["requests_cancelled"] < 1:
            assert time.monotonic() < deadline, "the server never noticed the client had gone"
            time.sleep(0.01)
        settled = len(model.calls)
        time.sleep(0.3)  # what is left of the huge request must not run now
        assert len(model.calls) <= settled + 1  # at most the call that was already running
        tagged = sum(1 for call in model.calls for t in call if t in huge)
        assert tagged < 40, f"{tagged} of 75 pieces were tagged for a client that had gone"
        status, answer = http(url + "/v1/tag", {"texts": ["Anna called ."]})
        assert status == 200 and answer["results"][0]["spans"][0]["text"] == "Anna"
        _, health = http(url + "/health")
        assert health["requests_served"] == 1 and health["requests_cancelled"] == 1


def test_cancelling_a_waiting_request_drops_its_remaining_pieces():
    model = WordModel(seconds_per_word=0.002)

    async def scenario():
        batcher = MicroBatcher(model.predict, max_wait_ms=1, piece_words=12, max_batch_words=24)
        batcher.start()
        task = asyncio.create_task(batcher.submit([document(100)]))
        await calls_reach(model, 2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        calls = len(model.calls)
        await asyncio.sleep(0.2)
        after = len(model.calls)
        answer = await batcher.submit(["Ada spoke ."])
        await batcher.stop()
        return batcher, calls, after, answer

    batcher, calls, after, answer = asyncio.run(scenario())
    assert after <= calls + 1 and sum(map(len, model.calls)) < 12  # 50 pieces were planned
    assert batcher.requests_cancelled == 1 and batcher.requests_served == 1
    assert answer[0].spans[0].text == "Ada"


def test_too_many_words_in_a_request_is_a_413_naming_the_limit():
    with running(create_app(WordModel(), max_chars=5000, max_words=400)) as url:
        status, body = http(url + "/v1/tag", {"texts": ["word " * 300, "word " * 200]})
        assert status == 413 and "the limit is 400 per request (max_words)" in body["detail"]
        assert "texts[0..1] already hold 500 words" in body["detail"]
        status, body = http(url + "/v1/tag", {"texts": ["word " * 300, "word " * 100]})
        assert status == 200 and len(body["results"]) == 2
        assert http(url + "/health")[1]["limits"]["max_words"] == 400


def test_serve_rejects_bad_word_limits_before_loading_the_model(tmp_path):
    for name in ("max_words", "max_batch_words"):
        with pytest.raises(ValueError, match=name):
            serve(tmp_path, **{name: 0})
    with pytest.raises(ValueError, match="piece_words"):
        serve(tmp_path, piece_words=-1)

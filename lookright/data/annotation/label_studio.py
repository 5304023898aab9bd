"""Label Studio: its JSON export (and JSON-MIN) in, pre-annotation tasks out.

Reading a task (`{"data": {"text": ...}, "annotations": [{"result": [...]}], "predictions": [...]}`):
- the text is `data["text"]`, or the only string field of `data`;
- the spans are the `labels` results of the task's **first annotation that was not cancelled**
  (`was_cancelled`); further annotations are not read, and how many tasks had them is reported;
- a task with no such annotation is unlabeled (training and evaluation then stop naming it;
  `predict` reads its text); `use_predictions=True` reads the first prediction instead of the
  annotations (e.g. to score a model's pre-annotations);
- results of other types (`choices`, `relation`, `textarea`...) are not spans: they are counted
  and reported, never read; a `labels` result with more than one label is an error.
JSON-MIN records (`{"text": ..., "label": [{"start", "end", "text", "labels"}], "annotation_id"}`)
are read too: every list of such objects is a span list; a record with none and no
`annotation_id` is unlabeled. Offsets are Unicode code points (Label Studio since 1.4; older
versions counted UTF-16 units, which the `text` check catches).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import IO

from ...errors import DataError
from ..sentence import Sentence
from .records import iter_json_array
from .spans import AnnotatedText, RawSpan, SpanChecker

SPAN_TYPE = "labels"


def _task_name(task: dict, index: int) -> str:
    return f"task {task['id']} (record {index})" if "id" in task else f"record {index}"


def _text(task: dict, fail) -> object:
    data = task.get("data")
    if not isinstance(data, dict):
        raise fail("'data' must be an object holding the text")
    if "text" in data:
        return data["text"]
    strings = [key for key, value in data.items() if isinstance(value, str)]
    if len(strings) != 1:
        raise fail(f"'data' has no 'text' field and {len(strings)} string fields ({', '.join(strings) or 'none'}): "
                   "name the text field 'text'")
    return data[strings[0]]


def _chosen(task: dict, use_predictions: bool, checker: SpanChecker, fail) -> list | None:
    """The result list that labels the task, or None when it is unlabeled."""
    key = "predictions" if use_predictions else "annotations"
    entries = task.get(key) or []
    if not isinstance(entries, list):
        raise fail(f"'{key}' must be a list")
    usable = [e for e in entries if isinstance(e, dict) and not e.get("was_cancelled")]
    for k, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise fail(f"{key}[{k}] must be an object with a 'result' list")
    if len(entries) > len(usable):
        checker.note(f"cancelled {key[:-1]}(s) skipped")
    if not usable:
        return None
    if len(usable) > 1:
        checker.note(f"task(s) with more than one {key[:-1]}: the first was read")
    result = usable[0].get("result", [])
    if not isinstance(result, list):
        raise fail(f"the {key[:-1]}'s 'result' must be a list")
    return result


def _spans(result: list, checker: SpanChecker, fail) -> list[RawSpan]:
    spans = []
    for k, item in enumerate(result):
        if not isinstance(item, dict):
            raise fail(f"result[{k}] must be an object")
        if item.get("type") != SPAN_TYPE:
            checker.note(f"result(s) of type {item.get('type')!r} ignored (not spans)")
            continue
        value = item.get("value")
        if not isinstance(value, dict):
            raise fail(f"result[{k}]: 'value' must be an object with start, end and labels")
        spans.append(_span(k, value, fail))
    return spans


def _span(k: int, value: dict, fail) -> RawSpan:
    labels = value.get("labels")
    if not isinstance(labels, list) or len(labels) != 1:
        raise fail(f"spans[{k}] [{value.get('start')}, {value.get('end')}): 'labels' must hold exactly one label, "
                   f"found {labels!r}")
    return RawSpan(k, value.get("start"), value.get("end"), labels[0], value.get("text"))


def _min_spans(task: dict) -> list[RawSpan] | None:
    """JSON-MIN: every list of {start, end, labels} objects; None when the record has none (unlabeled)."""
    found = [
        value for key, value in task.items()
        if key != "text" and isinstance(value, list) and value
        and all(isinstance(v, dict) and {"start", "end", "labels"} <= v.keys() for v in value)
    ]
    if not found and "annotation_id" not in task:
        return None
    return [RawSpan(k, v["start"], v["end"], v["labels"][0] if isinstance(v["labels"], list) and len(v["labels"]) == 1
                    else v["labels"], v.get("text"))
            for k, v in enumerate(item for value in found for item in value)]


def is_task(record: object) -> bool:
    """A Label Studio task or JSON-MIN record (what `auto` looks for in a JSON list)."""
    if not isinstance(record, dict):
        return False
    if isinstance(record.get("data"), dict) or "annotations" in record or "predictions" in record:
        return True
    return isinstance(record.get("text"), str) and _min_spans(record) is not None


def iter_label_studio(
    path: str | os.PathLike, *, labelled: bool = True, snap_spans: bool = False, use_predictions: bool = False
) -> Iterator[Sentence]:
    """Sentences of a Label Studio JSON export, one per task (see the module docstring)."""
    checker = SpanChecker(path, snap_spans)
    count = 0
    for index, line, task in iter_json_array(path):
        if not isinstance(task, dict):
            raise DataError(f"record {index}: expected a task object, found {type(task).__name__}", path, line)
        name = _task_name(task, index)

        def fail(problem: str, line=line, name=name) -> DataError:
            return checker.fail(problem, line, name)

        spans, fields = None, None
        if "data" in task or "annotations" in task or "predictions" in task:
            text = _text(task, fail)
            fields = {k: v for k, v in task["data"].items() if k != "text"}  # what the labeling config may show
            result = _chosen(task, use_predictions, checker, fail) if labelled else None
            spans = _spans(result, checker, fail) if result is not None else None
        else:  # JSON-MIN
            text = task.get("text")
            spans = _min_spans(task) if labelled else None
            for span in spans or []:
                if not isinstance(span.label, str):
                    raise fail(f"spans[{span.index}]: 'labels' must hold exactly one label, found {span.label!r}")
        yield checker.sentence(text, spans, line=line, record=name, fields=fields)
        count += 1
    if count == 0:
        raise DataError("no tasks found (the list is empty)", path)
    checker.finish()


class LabelStudioWriter:
    """Tasks with pre-annotations (`predictions`), written as one JSON list, one task at a time.

    `[`, the tasks separated by `,\\n`, `]`: a big input never has to be held in memory.
    """

    def __init__(self, handle: IO[str], *, model_version: str = "lookright", from_name: str = "label",
                 to_name: str = "text") -> None:
        self.handle, self.model_version = handle, model_version
        self.from_name, self.to_name = from_name, to_name
        self.count = 0

    def write(self, item: AnnotatedText) -> None:
        result = []
        for k, span in enumerate(item.spans or []):
            entry = {
                "id": f"lr{self.count}-{k}", "from_name": self.from_name, "to_name": self.to_name, "type": SPAN_TYPE,
                "value": {"start": span.start, "end": span.end, "text": item.text[span.start : span.end],
                          "labels": [span.label]},
            }
            if span.score is not None:
                entry["score"] = span.score
            result.append(entry)
        prediction = {"model_version": self.model_version, "result": result}
        if item.score is not None:
            prediction["score"] = item.score
        task = {"data": {"text": item.text, **item.meta}, "predictions": [prediction]}
        self.handle.write(("[\n" if self.count == 0 else ",\n") + json.dumps(task, ensure_ascii=False))
        self.count += 1

    def close(self) -> None:
        self.handle.write("\n]\n" if self.count else "[]\n")

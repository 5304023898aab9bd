"""Which labelling methods exist, by name: the built-in ones and any a user registers.

The built-ins are named by module path and imported on first use (like spaCy's factories), so
`import lookright.methods` stays cheap and nothing here imports the code that uses a method.
Other packages can ship methods through the `lookright.methods` entry-point group (a `Method`
subclass or instance), which also reaches the processes `lookright compare` and sweeps start.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from .base import Method

ENTRY_POINT_GROUP = "lookright.methods"
_BUILTIN = {  # name -> "module:class"
    "auto": "lookright.methods.token:AutoMethod",
    "unmask": "lookright.methods.token:UnmaskMethod",
    "causal": "lookright.methods.token:CausalMethod",
    "repeat": "lookright.methods.token:RepeatMethod",
    "generative": "lookright.methods.generative:GenerativeMethod",
    "encoder": "lookright.methods.token:EncoderMethod",
}
_METHODS: dict[str, Method] = {}
_entry_points_read = False


def register(method: Method | type[Method], *, replace: bool = False) -> Method:
    """Make `method` (an instance, or a class built without arguments) available by its `name`:
    to `TrainConfig(method=...)`, `lookright train --method`, `compare --methods` and model loading."""
    instance = method() if isinstance(method, type) else method
    if not isinstance(instance, Method):
        raise TypeError(f"{method!r} is not a lookright.methods.Method")
    name = getattr(instance, "name", None)
    if not isinstance(name, str) or not name or ":" in name or "," in name:
        raise ValueError(f"{type(instance).__name__}.name must be a non-empty string without ':' or ',', not {name!r}")
    if not replace and name in method_names():
        raise ValueError(f"a method named {name!r} is already registered (pass replace=True to replace it)")
    _METHODS[name] = instance
    return instance


def unregister(name: str) -> None:
    """Forget a registered method (built-ins come back on next use)."""
    _METHODS.pop(name, None)


def _read_entry_points() -> None:
    global _entry_points_read
    if _entry_points_read:
        return
    _entry_points_read = True
    for point in entry_points(group=ENTRY_POINT_GROUP):
        if point.name not in _METHODS:
            register(point.load(), replace=True)


def get_method(name: str) -> Method:
    """The method called `name`; an unknown name is a ValueError listing the known ones."""
    if name not in _METHODS and name in _BUILTIN:
        module, _, attribute = _BUILTIN[name].partition(":")
        _METHODS[name] = getattr(importlib.import_module(module), attribute)()
    if name not in _METHODS:
        _read_entry_points()
    if name not in _METHODS:
        raise ValueError(f"unknown method {name!r}: use one of {', '.join(method_names())}")
    return _METHODS[name]


def method_names() -> tuple[str, ...]:
    """Every known method: the built-ins in their usual order, then registered ones."""
    _read_entry_points()
    return (*_BUILTIN, *(name for name in _METHODS if name not in _BUILTIN))

"""Serving a trained model over HTTP: a FastAPI app with input limits and micro-batching.

`defaults` (the limits' default values), `schemas` (request/response models, limits), `pieces`
(long texts cut into exact pieces of whole sentences), `batching` (concurrent requests share model
calls and take turns, disconnected ones are dropped), `app` (parsing, validation, routes, `serve`).

Needs the optional web dependencies (`pip install 'lookright[serve]'`: fastapi, uvicorn). They are
imported when a name below is first used (PEP 562), not by `import lookright` or by
`lookright.serving.defaults`, so the library and the CLI work without them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY = {  # public name -> the module that defines it
    "ApiError": ".errors",
    "Limits": ".schemas",
    "MicroBatcher": ".batching",
    "TagRequest": ".schemas",
    "TagResponse": ".schemas",
    "create_app": ".app",
    "make_limits": ".schemas",
    "serve": ".app",
}

if TYPE_CHECKING:
    from .app import create_app, serve
    from .batching import MicroBatcher
    from .errors import ApiError
    from .schemas import Limits, TagRequest, TagResponse, make_limits


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = ["ApiError", "Limits", "MicroBatcher", "TagRequest", "TagResponse", "create_app", "make_limits", "serve"]

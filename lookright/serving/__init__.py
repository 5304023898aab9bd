"""Serving a trained model over HTTP: a FastAPI app with input limits and micro-batching.

`defaults` (the limits' default values), `schemas` (request/response models, limits), `pieces`
(long texts cut into exact pieces of whole sentences), `batching` (concurrent requests share model
calls and take turns, disconnected ones are dropped), `app` (parsing, validation, routes, `serve`).

Needs the optional web dependencies (`pip install 'lookright[serve]'`: fastapi, uvicorn). They are
imported when a name below is first used (PEP 562), not by `import lookright` or by
`lookright.serving.defaults`, so the library and the CLI work without them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_names

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


__getattr__, __dir__ = lazy_names(__name__, _LAZY, globals())


__all__ = ["ApiError", "Limits", "MicroBatcher", "TagRequest", "TagResponse", "create_app", "make_limits", "serve"]

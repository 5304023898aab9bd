"""Serving a trained model over HTTP: a FastAPI app with input limits and micro-batching.

`schemas` (request/response models, limits), `pieces` (long texts cut into exact pieces of whole
sentences), `batching` (concurrent requests share model calls and take turns, disconnected ones are
dropped), `app` (parsing, validation, routes, `serve`).

Needs the optional web dependencies (`pip install 'lookright[serve]'`: fastapi, uvicorn); they are
imported here, not by `import lookright`, so the library and the CLI work without them.
"""

from .app import create_app, serve
from .batching import MicroBatcher
from .errors import ApiError
from .schemas import Limits, TagRequest, TagResponse, make_limits

__all__ = ["ApiError", "Limits", "MicroBatcher", "TagRequest", "TagResponse", "create_app", "make_limits", "serve"]

"""Serving a trained model over HTTP: a FastAPI app with input limits and micro-batching.

Needs the optional web dependencies (`pip install 'lookright[serve]'`: fastapi, uvicorn); they are
imported here, not by `import lookright`, so the library and the CLI work without them.
"""

from .app import ApiError, Limits, MicroBatcher, TagRequest, TagResponse, create_app, make_limits, serve

__all__ = ["ApiError", "Limits", "MicroBatcher", "TagRequest", "TagResponse", "create_app", "make_limits", "serve"]

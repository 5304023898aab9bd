"""`lookright` command line: thin commands over the public Python API, one small module per command.

Every command is a few lines over a function users can call themselves (`lookright.training.train`,
`Tagger.load(...).evaluate`, `Tagger.predict`, `inference.selection.select`), so the CLI and the library never drift apart.
`train`, `sweep` and `compare` take their training settings as flags built from `TrainConfig`'s
fields (`options.with_settings`). Importing a command module registers it on `common.app` (in this
order, the order of `lookright --help`); a command imports what it runs only when it runs, so
`lookright --help` never loads torch.
"""

# isort: off
from . import train  # noqa: F401
from . import sweep  # noqa: F401
from . import compare  # noqa: F401
from . import evaluate  # noqa: F401
from . import score  # noqa: F401
from . import predict  # noqa: F401
from . import select  # noqa: F401
from . import export  # noqa: F401
from . import serve  # noqa: F401
from . import check_unmask  # noqa: F401
# isort: on
from .common import app, main

__all__ = ["app", "main"]

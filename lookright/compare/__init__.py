"""`lookright compare`: the labelling methods side by side on the user's data, under one budget."""

from .config import CompareConfig
from .methods import MethodSpec, parse_methods
from .rows import CompareRow
from .runner import run_compare

__all__ = ["CompareConfig", "CompareRow", "MethodSpec", "parse_methods", "run_compare"]

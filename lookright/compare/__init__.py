"""`lookright compare`: the labelling methods side by side on the user's data, under one budget."""

from .methods import MethodSpec, parse_methods
from .runner import CompareConfig, CompareRow, run_compare

__all__ = ["CompareConfig", "CompareRow", "MethodSpec", "parse_methods", "run_compare"]

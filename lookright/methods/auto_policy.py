"""When the default method (`auto`) reads a sentence twice and which blocks it unmasks otherwise.

Torch-free, so that the CLI help (`training.config`) states the same numbers `AutoMethod` acts on;
the evidence is in `AutoMethod`'s docstring and bench/README "Learning curve".
"""

from __future__ import annotations

AUTO_REPEAT_UP_TO = 3000  # training sentences: the largest budget where repetition + unmasking still led (3 seeds)
AUTO_LARGE_UNMASK = "1111"  # above it: every block bidirectional, the best config on the full training set

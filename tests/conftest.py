from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

REPO = Path(__file__).resolve().parents[1]
# Real data is never committed (licences): tests read it from ../shared/data or $LOOKRIGHT_DATA.
DATA = Path(os.environ.get("LOOKRIGHT_DATA", REPO.parent / "shared" / "data"))


def _dataset(name: str) -> Path:
    path = DATA / name
    if not path.is_dir():
        pytest.fail(f"{path} is missing: set LOOKRIGHT_DATA to the folder holding conll2003/ and conll2000/")
    return path


@pytest.fixture(scope="session")
def conll2003() -> Path:
    return _dataset("conll2003")


@pytest.fixture(scope="session")
def conll2000() -> Path:
    return _dataset("conll2000")

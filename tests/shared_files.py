"""Files of the steering repository's `shared/` folder, which tests check the code against.

`shared/` sits beside the checkout (`../shared`), or where `FLOWENGINE_SHARED_DIR` says;
`FLOWENGINE_REFERENCE_DIR` may point at its `reference/` folder alone. A test that needs a
missing file skips and says where it looked, except under CI (`CI` set), which always has
`shared/`: there a missing file fails the test instead of hiding it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    """Where `shared/` is: $FLOWENGINE_SHARED_DIR, or beside the checkout."""
    return Path(os.environ.get("FLOWENGINE_SHARED_DIR") or REPO.parent / "shared")


def reference_dir() -> Path:
    """Where `shared/reference/` is: $FLOWENGINE_REFERENCE_DIR, or inside shared_dir()."""
    return Path(os.environ.get("FLOWENGINE_REFERENCE_DIR") or shared_dir() / "reference")


def shared_file(relative: str) -> Path:
    """`shared/<relative>` (a `reference/...` path honours FLOWENGINE_REFERENCE_DIR).

    Missing: skip with the path looked at, or fail under CI."""
    if relative.startswith("reference/"):
        path = reference_dir() / relative.removeprefix("reference/")
    else:
        path = shared_dir() / relative
    if not path.is_file():
        why = (
            f"{path} not found: put the steering repo's shared/ beside the checkout, or set "
            "FLOWENGINE_SHARED_DIR (FLOWENGINE_REFERENCE_DIR for reference/ alone)"
        )
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why, allow_module_level=True)
    return path

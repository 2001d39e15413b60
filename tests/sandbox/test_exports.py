"""The sandbox package's public surface is exactly its sorted __all__."""

import connectors.pingone.sandbox as sandbox


def test_all_is_sorted_and_complete() -> None:
    public = {
        name
        for name, value in vars(sandbox).items()
        if not name.startswith("_") and type(value).__name__ != "module"
    }
    assert sandbox.__all__ == sorted(sandbox.__all__)  # ruff RUF022 (isort-style) order
    assert set(sandbox.__all__) == public - {"annotations"}


def test_default_sandbox_is_one_per_process() -> None:
    from flowengine.clock import SystemClock

    first = sandbox.default_sandbox()
    assert first is sandbox.default_sandbox()
    assert isinstance(first.clock, SystemClock) and hasattr(first.clock, "advance")
    assert first.base_url == "http://sandbox.pingone.local"

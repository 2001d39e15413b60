"""flowengine's public surface is exactly its sorted __all__ (httpx's test, adapted)."""

import flowengine


def test_all_is_sorted_and_complete() -> None:
    public = sorted(
        (name for name in vars(flowengine) if not name.startswith("_")),
        key=str.casefold,
    )
    modules = {name for name in public if type(getattr(flowengine, name)).__name__ == "module"}
    assert flowengine.__all__ == sorted(flowengine.__all__, key=str.casefold)
    assert set(flowengine.__all__) == set(public) - modules

"""The sandbox plugin loads light, and a missing `sandbox` extra is one clear error."""

import subprocess
import sys
import textwrap

HEAVY = ("starlette", "uvicorn", "PIL", "rapidfuzz", "httpx")


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60
    )


def test_importing_the_plugin_module_loads_nothing_heavy() -> None:
    done = run_python(
        f"""
        import importlib.metadata, sys
        (ep,) = [e for e in importlib.metadata.entry_points(group="flowengine")
                 if e.name == "pingone_sandbox"]
        ep.load()
        print(sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r}))
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", f"the plugin module imported {done.stdout.strip()}"


def test_registering_the_plugin_loads_nothing_heavy() -> None:
    done = run_python(
        """
        import sys
        from flowengine import load_registry
        load_registry()
        print(sorted(m for m in sys.modules if m.split(".")[0] in {"starlette", "uvicorn",
              "PIL", "rapidfuzz"}))
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", f"loading the plugins imported {done.stdout.strip()}"


MISSING_EXTRA = """
    import sys
    for name in ("PIL", "rapidfuzz"):
        sys.modules[name] = None  # as if pillow and rapidfuzz were not installed
"""


def test_a_missing_extra_is_one_clear_error() -> None:
    done = run_python(
        MISSING_EXTRA
        + """
    from flowengine_connectors.pingone_sandbox import SandboxExtraMissing
    try:
        from flowengine_connectors.pingone_sandbox import default_sandbox
    except SandboxExtraMissing as e:
        print(e)
    """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "the embedded PingOne sandbox needs its extra: pip install "
        "'flowengine-identity[sandbox]' (missing: PIL, rapidfuzz)"
    )


def test_the_sandbox_cli_without_its_extra_says_how_to_install_it() -> None:
    done = run_python(
        MISSING_EXTRA
        + """
    import runpy
    sys.argv = ["flowengine", "sandbox", "make-documents", "--persona", "success", "--out", "x"]
    runpy.run_module("flowengine", run_name="__main__")
    """
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "pip install 'flowengine-identity[sandbox]'" in done.stderr

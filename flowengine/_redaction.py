"""Redaction of secrets and personal data, shared by running (trace events, node errors)
and storing (a stored run never holds a secret).

Secrets (the secret values among a run's connection settings: `setting_secrets` in the
connection pool) are always replaced by "[REDACTED]" wherever they occur inside strings;
personal data paths declared by a capability (`Capability.personal_data`, dotted, `*` for
any key or item; `error.<path>` inside the node's error) are replaced unless the engine is
told to keep them. Redaction first scans a whole value once in C (`Secrets.scan`) and walks
it only on a hit.
"""

from __future__ import annotations

import marshal
import pickle
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from typing import Any

__all__ = ["REDACTED", "Secrets", "compile_secrets", "redact", "redact_parts"]

REDACTED = "[REDACTED]"


@lru_cache(maxsize=1024)
def _segments(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))


def _serialise(value: Any) -> bytes | None:
    """`value` as bytes for the secret scan (strings in UTF-8); None when it cannot be."""
    try:
        return marshal.dumps(value)  # plain JSON-like data: the fastest, about 1 µs per KB
    except ValueError:  # subclasses or other objects inside
        pass
    try:
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # an object pickle refuses: the walk decides
        return None


def _utf8(secret: str) -> bytes:
    # As marshal and pickle encode strings (lone surrogates kept).
    return secret.encode("utf-8", "surrogatepass")


class Secrets:
    """A run's secret values, compiled for redaction: a single scan first, a walk on a hit.

    `scan()` serialises a whole value once in C (marshal, else pickle: both store strings as
    UTF-8, never escaped) and looks for each secret's UTF-8 bytes in it. UTF-8 encodes
    character by character, so a secret inside any string of the value is found; a hit
    elsewhere (a dict key, an object's state) only costs the walk, which then changes
    nothing. Values are never stored or shown in that form.
    """

    __slots__ = ("encoded", "values")

    def __init__(self, secrets: Iterable[str]) -> None:
        # Longest first, so a secret containing another is replaced whole.
        self.values = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))
        self.encoded = tuple(_utf8(s) for s in self.values)

    def __bool__(self) -> bool:
        return bool(self.values)

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __repr__(self) -> str:
        return f"<Secrets: {len(self.values)} values>"

    def scan(self, value: Any) -> bool:
        """Whether a secret may occur inside `value` (False means surely not)."""
        if not self.values or value is None or isinstance(value, bool | int | float):
            return False
        if isinstance(value, str):
            return any(s in value for s in self.values)
        data = _serialise(value)
        return data is None or any(s in data for s in self.encoded)

    def redact(self, value: Any) -> Any:
        """`value` with every secret inside its strings replaced (itself when none occurs)."""
        if not self.scan(value):
            return value
        return _redact_secrets(value, self.values)


@lru_cache(maxsize=256)
def compile_secrets(secrets: frozenset[str]) -> Secrets:
    """The compiled form of a set of secret values (cached: runs share their settings)."""
    return Secrets(secrets)


def redact(value: Any, secrets: Iterable[str] = (), personal_paths: Iterable[str] = ()) -> Any:
    """A copy of `value` with secrets and the personal data paths replaced by "[REDACTED]".

    Parts that need no change are shared with `value`, never modified.
    """
    value = _redact_paths(value, personal_paths)
    compiled = secrets if isinstance(secrets, Secrets) else compile_secrets(frozenset(secrets))
    return compiled.redact(value)


def _redact_paths(value: Any, personal_paths: Iterable[str]) -> Any:
    for path in personal_paths:
        value = _redact_path(value, _segments(path))
    return value


def _redact_secrets(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, Mapping):
        return {k: _redact_secrets(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_secrets(v, secrets) for v in value]
    return value


def _redact_path(value: Any, segments: tuple[str, ...]) -> Any:
    if not segments:
        return REDACTED
    head, rest = segments[0], segments[1:]
    if isinstance(value, Mapping):
        keys = list(value) if head == "*" else [head] if head in value else []
        if not keys:
            return value
        out = dict(value)
        for key in keys:
            out[key] = _redact_path(value[key], rest)
        return out
    if isinstance(value, list | tuple):
        if head == "*":
            return [_redact_path(v, rest) for v in value]
        if head.isdigit() and int(head) < len(value):
            out_list = list(value)
            out_list[int(head)] = _redact_path(value[int(head)], rest)
            return out_list
    return value


@lru_cache(maxsize=1024)
def _error_paths(paths: tuple[str, ...]) -> tuple[str, ...]:
    """The paths that reach into a node's error: those written `error.<path>`, unprefixed."""
    return tuple(p.removeprefix("error.") for p in paths if p.startswith("error."))


def redact_parts(
    input: Any, output: Any, error: Any, secrets: Iterable[str], personal_paths: Iterable[str]
) -> tuple[Any, Any, Any]:
    """A node visit's input, output and error redacted for its trace event.

    Personal data paths apply to the input and output, and those written `error.<path>` to
    the error (a message a flow built from the run); secrets to all three, found by one
    scan of the three together (usually there is nothing to replace).
    """
    compiled = secrets if isinstance(secrets, Secrets) else compile_secrets(frozenset(secrets))
    paths = tuple(personal_paths)
    in_error = _error_paths(paths)
    # Scanned before the paths are redacted: redaction only removes text, and the values as
    # given still share their parts (an output's body under two keys is serialised once).
    hit = compiled.scan((input, output, error))
    parts = (
        _redact_paths(input, paths),
        _redact_paths(output, paths),
        _redact_paths(error, in_error) if in_error and error is not None else error,
    )
    if hit:
        return (
            _redact_secrets(parts[0], compiled.values),
            _redact_secrets(parts[1], compiled.values),
            _redact_secrets(parts[2], compiled.values),
        )
    return parts

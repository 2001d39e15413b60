"""Fault injection: rules that make the next N matching calls fail, slow down or drop.

A rule matches an environment id, an HTTP method and a path (shell-style globs, `*` by default)
and does one thing: `status` (answer 429 / 500 / 503 ... in PingOne's envelope), `latency`
(wait `seconds` on the sandbox clock, then answer normally), `drop` (close the connection
without a complete response) or `expire_tokens` (every token of the environment expires now,
so the call gets 401). Rules come from the config's `faults:` list or the admin endpoint.
"""

from __future__ import annotations

import fnmatch
import itertools
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["ACTIONS", "FaultRule", "Faults"]

ACTIONS = ("status", "latency", "drop", "expire_tokens")
_FIELDS = {"env", "method", "path", "action", "status", "retry_after", "seconds", "times"}
_ids = itertools.count(1)


@dataclass
class FaultRule:
    """One rule; `times` is how many more calls it applies to."""

    action: str
    env: str = "*"
    method: str = "*"
    path: str = "*"
    status: int = 503
    retry_after: int = 1
    seconds: float = 0.0
    times: int = 1
    id: int = 0

    def matches(self, env: str, method: str, path: str) -> bool:
        """Whether this rule applies to a call."""
        return (
            (self.method == "*" or self.method == method)
            and fnmatch.fnmatchcase(env, self.env)
            and fnmatch.fnmatchcase(path, self.path)
        )

    def to_dict(self) -> dict[str, Any]:
        """The rule as JSON."""
        return asdict(self)

    @classmethod
    def parse(cls, raw: dict[str, Any], where: str = "fault rule") -> FaultRule:
        """Validate a rule given as a mapping; errors name the field and the allowed values."""
        unknown = sorted(set(raw) - _FIELDS)
        if unknown:
            raise ValueError(f"{where}: unknown field(s) {unknown}; known: {sorted(_FIELDS)}")
        action = raw.get("action")
        if action not in ACTIONS:
            raise ValueError(f"{where}: action must be one of {list(ACTIONS)}, got {action!r}")
        rule = cls(action=action, id=next(_ids))
        rule.env = str(raw.get("env", "*"))
        rule.method = str(raw.get("method", "*")).upper()
        rule.path = str(raw.get("path", "*"))
        rule.status = _int(raw.get("status", 503), f"{where}: status", 400, 599)
        rule.retry_after = _int(raw.get("retry_after", 1), f"{where}: retry_after", 0, 3600)
        rule.times = _int(raw.get("times", 1), f"{where}: times", 1, 1_000_000)
        seconds = raw.get("seconds", 0.0)
        if not isinstance(seconds, int | float) or not 0 <= seconds <= 600:
            raise ValueError(f"{where}: seconds must be a number from 0 to 600, got {seconds!r}")
        rule.seconds = float(seconds)
        return rule


def _int(value: Any, what: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{what} must be an integer from {low} to {high}, got {value!r}")
    return value


class Faults:
    """The active rules of one sandbox."""

    def __init__(self, rules: list[dict[str, Any]] | None = None) -> None:
        self.rules: list[FaultRule] = []
        for index, raw in enumerate(rules or []):
            self.add(raw, where=f"faults[{index}]")

    def add(self, raw: dict[str, Any], where: str = "fault rule") -> FaultRule:
        """Add a rule (validated)."""
        rule = FaultRule.parse(raw, where)
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        """Remove every rule."""
        self.rules.clear()

    def take(self, env: str, method: str, path: str) -> FaultRule | None:
        """The first rule matching this call, counted as used (spent rules are removed)."""
        for rule in self.rules:
            if rule.matches(env, method, path):
                rule.times -= 1
                if rule.times <= 0:
                    self.rules.remove(rule)
                return rule
        return None

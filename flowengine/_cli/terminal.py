"""What `flowengine run` shows in a terminal: node lines, screens, prompts, poll waits."""

from __future__ import annotations

import io
import os
import sys
import textwrap
from collections.abc import Callable
from typing import Any

import click

from flowengine._cli.common import dump
from flowengine._clock import Clock
from flowengine._plugins.connector import Interaction
from flowengine._running.headless import MISSING
from flowengine._storing.run import RunStatus

__all__ = ["Terminal", "error_note", "outcome_note", "where_text"]


def _qr_text(url: str, *, tty: bool) -> str:
    """The QR code of `url` drawn with text: half-block characters on a terminal."""
    import qrcode

    code = qrcode.QRCode(border=1)
    code.add_data(url)
    out = io.StringIO()
    # print_ascii draws two modules per character cell, so the code stays square and small.
    code.print_ascii(out=out, invert=tty)
    return out.getvalue()


def error_note(error: Any) -> str:
    """` (CODE: message)` for a node's error, or '' when it has none."""
    # A routed error ends no run, so this line is the only place a person sees why the
    # node failed. The error is the trace's: secrets are already redacted.
    if not isinstance(error, dict) or not (error.get("code") or error.get("message")):
        return ""
    message = " ".join(str(error.get("message") or "").split())  # one line
    code = str(error.get("code") or "ERROR")
    where = error.get("where")
    if isinstance(where, dict) and where.get("file"):
        message += f" at {where_text(where)}"
    return f" ({code}: {message})" if message else f" ({code})"


def outcome_note(event: dict[str, Any]) -> str:
    """The error note of a trace event whose outcome carries an error; "" for the others."""
    failed = event.get("outcome") in ("error", "retrying", "interrupted")
    return error_note(event.get("error")) if failed else ""


_OUTCOME_COLOURS = {"error": "red", "interrupted": "red", "waiting": "yellow", "retrying": "yellow"}


def where_text(where: dict[str, Any]) -> str:
    """`file:line in function` of an error's `where`, the file relative to the current folder
    when it is inside it."""
    file = str(where.get("file"))
    try:
        relative = os.path.relpath(file)
        file = file if relative.startswith("..") else relative
    except ValueError:  # another drive
        pass
    function = f" in {where['function']}" if where.get("function") else ""
    return f"{file}:{where.get('line')}{function}"


def _ask_lines(label: str, fallback: str | None) -> str:
    """Several lines of text (a textarea field), ended by an empty line."""
    # A one-line prompt cuts a pasted or scanned licence barcode at its first line break;
    # an empty line is the end a terminal user can always type (an editor may not exist).
    keep = {None: "", "": ", or at once to leave it empty"}.get(fallback, ", or at once to keep it")
    click.echo(f"{label} (several lines: end with an empty line{keep}):")
    if fallback:
        click.echo(textwrap.indent(fallback, "    | "))
    while True:
        lines = _read_lines()
        if lines:
            return "\n".join(lines)
        if fallback is not None:
            return fallback
        click.echo("  a value is required: type at least one line")


def _read_lines() -> list[str]:
    """Lines typed at `  > ` prompts up to the first empty one (end of input aborts)."""
    lines: list[str] = []
    while True:
        # click.prompt turns Ctrl-C and end of input into click.Abort, as for other fields.
        line = click.prompt("  >", default="", show_default=False, prompt_suffix=" ")
        if line == "":
            return lines
        lines.append(line)


class Terminal:
    """Echoes a run's progress and asks its questions; quiet (for --json) prints nothing."""

    def __init__(self, *, quiet: bool = False, interactive: bool = False) -> None:
        self.quiet = quiet
        self.interactive = interactive
        self.tty = sys.stdout.isatty()
        self._last_qr: str | None = None

    def echo(self, text: str = "", **style: Any) -> None:
        """Print a line unless quiet (click.secho styles)."""
        if not self.quiet:
            click.secho(text, **style)

    # Trace events --------------------------------------------------------------------

    def on_event(self, event: dict[str, Any]) -> None:
        """A trace sink: one line per node that finished."""
        outcome = event.get("outcome")
        if not outcome:
            return
        indent = "    " if event.get("parent") else "  "
        colour = _OUTCOME_COLOURS.get(outcome, "green")
        ms = event.get("duration_ms")
        took = f"{ms:.1f} ms" if isinstance(ms, int | float) else ""
        visit = f" (visit {event['visit']})" if (event.get("visit") or 1) > 1 else ""
        node = click.style(str(event.get("node")), bold=True)
        why = outcome_note(event)
        if outcome == "retrying":
            took = f"attempt {event.get('attempt')}, again in {event.get('retry_in', 0):g} s"
        self.echo(f"{indent}{node}{visit} -> {click.style(outcome, fg=colour)}{why}  {took}")

    # Interactions --------------------------------------------------------------------

    def show(self, run: Any, interaction: Interaction) -> None:
        """Draw the screen a waiting run shows."""
        data = interaction.data
        self.echo()
        if data.get("title"):
            self.echo(f"  == {data['title']} ==", bold=True)
        for text in (data.get("description"), data.get("message")):
            if text:
                self.echo(textwrap.indent(str(text), "  "))
        if interaction.kind == "form" and not self.interactive:
            for f in data.get("fields", []):
                need = "required" if f.get("required") else "optional"
                label = f.get("label") or f["name"]
                self.echo(f"  - {f['name']}: {label} ({f.get('type', 'text')}, {need})")
        if interaction.kind == "qr":
            url = str(data.get("url", ""))
            # A polling screen comes back every interval: draw each code once.
            if url != self._last_qr:
                self.echo(_qr_text(url, tty=self.tty))
                self._last_qr = url
            else:
                self.echo("  (the same QR code as above)")
            self.echo(f"  {data.get('fallback_text') or data.get('url')}")
        for name, problem in (data.get("errors") or {}).items():
            self.echo(f"  ! {name}: {problem}", fg="yellow")

    def prompt(self, node_id: str, interaction: Interaction) -> Any:
        """Ask for a form's fields at the terminal; MISSING when not interactive."""
        if not self.interactive or interaction.kind != "form":
            return MISSING
        data = interaction.data
        extra = [
            b
            for b in data.get("buttons", [])
            if b.get("type") != "SUBMIT_BUTTON" and b.get("outcome")
        ]
        if extra:
            choices = ["success", *(b["outcome"] for b in extra)]
            action = click.prompt("  action", type=click.Choice(choices), default="success")
            if action != "success":
                return {"action": action}
        values = data.get("values") or {}
        return {f["name"]: self._ask(f, values.get(f["name"])) for f in data.get("fields", [])}

    def _ask(self, field: dict[str, Any], default: Any) -> Any:
        """Prompt for one form field, with its default and options."""
        # Forms from other plugins may leave out what ui.form always fills in.
        label = f"  {field.get('label') or field['name']}"
        options = [o["value"] for o in field.get("options", [])]
        kind = click.Choice(options) if options else None
        hide = field.get("type") == "password"
        optional = not field.get("required", True)
        fallback = default if default is not None else ("" if optional else None)
        if field.get("type") == "textarea":
            return _ask_lines(label, fallback)
        if field.get("type") == "checkbox":
            return click.confirm(label, default=bool(default))
        if field.get("type") == "multiselect":
            typed = click.prompt(f"{label} (comma-separated: {', '.join(options)})", default="")
            return [v.strip() for v in typed.split(",") if v.strip()]
        return click.prompt(
            label, default=fallback, type=kind, hide_input=hide, show_default=not hide
        )

    # Poll waits ----------------------------------------------------------------------

    def waiter(self, clock: Clock) -> Callable[[float, Interaction], Any]:
        """A wait that shows progress on a terminal and one plain line elsewhere."""

        async def wait(seconds: float, interaction: Interaction) -> None:
            if self.quiet or not self.tty:
                self.echo(f"  waiting {seconds:g} s before continuing ...")
                await clock.sleep(seconds)
                return
            steps = max(1, int(seconds * 10))
            with click.progressbar(length=steps, label="  waiting", width=30) as bar:
                for _ in range(steps):
                    await clock.sleep(seconds / steps)
                    bar.update(1)

        return wait

    # The end -------------------------------------------------------------------------

    def summary(self, run: Any, resume_options: str = "") -> None:
        """The run's status and its result or error; how to resume a waiting run."""
        colour = {"completed": "green", "failed": "red", "waiting": "yellow"}.get(run.status)
        self.echo()
        self.echo(f"run {run.id} {run.status}", fg=colour, bold=True)
        shown = run.to_dict()  # secrets (connection settings, typed passwords) redacted
        if run.status == RunStatus.COMPLETED:
            self.echo(dump(shown["result"]))
        elif run.status == RunStatus.FAILED:
            self.echo(dump(shown["error"]))
        elif run.status == RunStatus.WAITING:
            node = (run.waiting or {}).get("node")
            self.echo(
                f"waiting at node {node!r}: answer with "
                f"`flowengine runs resume {run.id}{resume_options} --answers FILE`"
            )

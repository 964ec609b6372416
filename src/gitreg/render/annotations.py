"""GitHub Actions workflow commands (`::error file=F,line=L,title=T::message`) for what
`gitreg validate` finds, so each problem shows on the pull request's changed file.

Printed only when GITHUB_ACTIONS=true, beside the usual text. Values are escaped as the
runner decodes them: `%`, CR and LF in the message; also `:` and `,` in properties.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from gitreg.errors import Problem
from gitreg.model import yamlio
from gitreg.model.rules import ReviewWarning
from gitreg.ops.validate import ValidationReport
from gitreg.render.text import safe_text

TITLE = "gitreg validate"
_YAML_LINE = re.compile(r"\bline (\d+)\b")


def escape_data(text: str) -> str:
    """`%`, CR and LF as the runner decodes them; other control characters (an escape
    sequence from a manifest) made visible, as for any terminal (`text.safe_text`)."""
    return safe_text(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(
    level: str,
    message: str,
    file: str | None = None,
    line: int | None = None,
    title: str = TITLE,
) -> str:
    """One workflow command: `level` is error, warning or notice."""
    props = [f"file={escape_property(file)}"] if file else []
    props += [f"line={line}"] if line else []
    props.append(f"title={escape_property(title)}")
    return f"::{level} {','.join(props)}::{escape_data(message)}"


def validation(report: ValidationReport, read: Callable[[str], bytes | None]) -> str:
    """An `::error` per problem and a `::warning` per warning, each with its file and, when
    it can be found, line. `read(path)` gives a file's bytes at the validated ref, or None;
    each file is read and parsed once, whatever the number of problems in it."""
    found: list[tuple[str, Problem | ReviewWarning]] = [("error", p) for p in report.problems]
    found += [("warning", w) for w in report.warnings]
    # "command line" and the like are no file
    files = [p.path for _, p in found if "/" in p.path or "." in p.path]
    fields: dict[str, list[str]] = {path: [] for path in files}
    for _, p in found:
        if p.path in fields and p.field:
            fields[p.path].append(p.field)
    at = {path: yamlio.field_lines(read(path), wanted) for path, wanted in fields.items() if wanted}
    lines = []
    for level, p in found:
        message = f"{p.field}: {p.message}" if p.field else p.message
        where = p.path if p.path in fields else None
        if where and p.field:
            line = at[where][p.field]
        else:
            yaml_line = _YAML_LINE.search(p.message) if where else None  # "invalid YAML: line 3"
            line = int(yaml_line.group(1)) if yaml_line else None
        lines.append(command(level, message, where, line))
    return "\n".join(lines)

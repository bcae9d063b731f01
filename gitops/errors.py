"""Errors the user can act on: every problem names the file, the field path and what was expected."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    file: str
    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        field = f" at {self.path}" if self.path else ""
        place = f"{where}{field}".strip()
        return f"{place}: {self.message}" if place else self.message

    def as_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "path": self.path, "message": self.message}


class InputError(Exception):
    """Bad input (inventory, environment, manifests, flags). Maps to exit code 2."""

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem(file="", path="", message=problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class GitopsError(Exception):
    """An operation failed for a reason outside the inputs (git, GitHub, filesystem). Exit code 1."""

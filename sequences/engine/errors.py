"""Errors the engine reports about a script, with the script's own line numbers."""
from __future__ import annotations


class ScriptError(Exception):
    """Something is wrong with the script itself (not with the engine or the input)."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        return f"line {self.line}, column {self.column}: {self.message}"

    def as_dict(self) -> dict:
        return {"message": self.message, "line": self.line, "column": self.column}


class ScriptSyntaxError(ScriptError):
    """The script does not parse; raised when it is saved."""


class ScriptCompileError(ScriptError):
    """The runtime refused to compile a program (normally caught earlier, when the script was saved)."""


class ScriptLimitError(Exception):
    """A run hit the time or memory limit, or its sandbox process failed; that sandbox was discarded."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message

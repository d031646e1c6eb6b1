"""Side-by-side rows of two sources, for reading a change between versions line by line."""
import difflib
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    kind: str  # "equal", "replace", "delete" or "insert"
    old_number: int | None
    old_text: str
    new_number: int | None
    new_text: str


def side_by_side(old: str, new: str) -> list[Row]:
    old_lines, new_lines = old.splitlines(), new.splitlines()
    rows = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for offset in range(max(i2 - i1, j2 - j1)):
            i, j = i1 + offset, j1 + offset
            rows.append(Row(tag,
                            i + 1 if i < i2 else None, old_lines[i] if i < i2 else "",
                            j + 1 if j < j2 else None, new_lines[j] if j < j2 else ""))
    return rows

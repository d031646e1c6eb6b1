"""A reader of gettext .po files (what xgettext/makemessages write): enough to check the shipped catalogs."""
from __future__ import annotations

import ast
from dataclasses import dataclass, field


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)  # index -> text (0 only, without a plural)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def translated(self) -> bool:
        return bool(self.msgstr) and all(self.msgstr.values())


def parse(text: str) -> list[Entry]:
    entries, entry, target = [], Entry(), None

    def finish():
        nonlocal entry, target
        if entry.msgid or entry.msgstr:
            entries.append(entry)
        entry, target = Entry(), None

    for line in text.splitlines():
        line = line.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            entry.obsolete = True
            continue
        if line.startswith("#,"):
            entry.flags.update(f.strip() for f in line[2:].split(","))
            continue
        if line.startswith("#"):
            continue
        if line.startswith("msgid_plural "):
            entry.msgid_plural, target = _string(line[13:]), ("plural", None)
        elif line.startswith("msgid "):
            if target is not None and target[0] == "str":
                finish()
            entry.msgid, target = _string(line[6:]), ("id", None)
        elif line.startswith("msgstr["):
            index = int(line[7:line.index("]")])
            entry.msgstr[index], target = _string(line[line.index("]") + 1:].strip()), ("str", index)
        elif line.startswith("msgstr "):
            entry.msgstr[0], target = _string(line[7:]), ("str", 0)
        elif line.startswith('"') and target is not None:
            kind, index = target
            if kind == "id":
                entry.msgid += _string(line)
            elif kind == "plural":
                entry.msgid_plural += _string(line)
            else:
                entry.msgstr[index] += _string(line)
    finish()
    return [e for e in entries if not e.obsolete]


def _string(quoted: str) -> str:
    return ast.literal_eval(quoted)


def messages(entries: list[Entry]) -> list[Entry]:
    """The entries that are messages (not the header)."""
    return [e for e in entries if e.msgid]

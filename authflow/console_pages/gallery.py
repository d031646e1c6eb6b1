"""The template gallery: login scripts to start from, each a .js file with a .json beside it giving its title,
what it is for, a ready simulate scenario and the decision that scenario documents (gallery_templates/).

They ship with the product (not the tests): the console's gallery page lists them and the editor opens one
as a new draft; a test runs every scenario and checks its documented decision."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DIRECTORY = Path(__file__).resolve().parent / "gallery_templates"


@dataclass(frozen=True)
class Template:
    slug: str
    title: str
    summary: str
    decision: str  # the decision its scenario documents, in words
    source: str
    scenario: dict
    expect: dict

    def scenario_text(self) -> str:
        return json.dumps(self.scenario, indent=2)


@lru_cache(maxsize=1)
def templates() -> tuple[Template, ...]:
    found = []
    for script in sorted(DIRECTORY.glob("*.js")):
        about = json.loads(script.with_suffix(".json").read_text(encoding="utf-8"))
        found.append(Template(slug=script.stem, title=about["title"], summary=about["summary"],
                              decision=about["decision"], source=script.read_text(encoding="utf-8"),
                              scenario=about["scenario"], expect=about["expect"]))
    return tuple(found)


def template(slug) -> Template | None:
    return next((t for t in templates() if t.slug == slug), None) if isinstance(slug, str) else None

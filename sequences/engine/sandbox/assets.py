"""The JavaScript a sandbox process loads, in order: SES, acorn, and the engine's runtime bundle.

SES and acorn come from npm, pinned with their integrity in package-lock.json
and installed by `make venv` (npm ci); this module refuses to start a sandbox
with anything else than the pinned versions.  The runtime is the files of
sequences/engine/js, wrapped into one function so that they share a private
scope and leave nothing on the global object but the engine's entry points.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

JS_DIR = Path(__file__).resolve().parent.parent / "js"
PROJECT_DIR = Path(__file__).resolve().parents[3]
RUNTIME_URL = "authflow-runtime.js"
# The runtime's files in load order: the realm first, the entry points last.
RUNTIME_FILES = (
    "realm.js",
    "journal.js",
    "api/users.js",
    "api/effects.js",
    "api/steps.js",
    "api/sessions.js",
    "api/calls.js",
    "api/cookies.js",
    "api/directory.js",
    "api/utilities.js",
    "api/libraries.js",
    "api/prompts.js",
    "api/callbacks.js",
    "api/custom.js",
    "api/bindings.js",
    "programs.js",
    "outline.js",
    "run.js",
)
# npm packages the sandbox loads, and the file of each.
PACKAGES = (("ses", "dist/ses.umd.min.js"), ("acorn", "dist/acorn.js"))


class AssetsMissing(RuntimeError):
    """The pinned JavaScript packages are not installed (run `make venv`, which runs `npm ci`)."""


@dataclass(frozen=True)
class Assets:
    names: tuple[str, ...]
    sources: tuple[str, ...]


def node_modules() -> Path:
    return Path(os.environ.get("AUTHFLOW_NODE_MODULES") or PROJECT_DIR / "node_modules")


def pinned_versions() -> dict[str, str]:
    """The versions package-lock.json pins for the packages the sandbox loads."""
    lock = json.loads((PROJECT_DIR / "package-lock.json").read_text(encoding="utf-8"))
    packages = lock.get("packages", {})
    return {name: packages.get(f"node_modules/{name}", {}).get("version") for name, _ in PACKAGES}


def runtime_bundle() -> str:
    parts = ['(function (global) {\n"use strict";\n']
    for name in RUNTIME_FILES:
        parts.append(f"// ---- {name}\n")
        parts.append((JS_DIR / name).read_text(encoding="utf-8"))
        parts.append("\n")
    parts.append("})(globalThis);\n")
    return "".join(parts)


@lru_cache(maxsize=1)
def load() -> Assets:
    modules = node_modules()
    pinned = pinned_versions()
    names, sources = [], []
    for package, path in PACKAGES:
        manifest = modules / package / "package.json"
        try:
            version = json.loads(manifest.read_text(encoding="utf-8")).get("version")
            source = (modules / package / path).read_text(encoding="utf-8")
        except OSError:
            raise AssetsMissing(f"{package} is not installed in {modules}: run `make venv` (npm ci)") from None
        if version != pinned[package]:
            raise AssetsMissing(f"{package} {version} is installed in {modules}, package-lock.json pins "
                                f"{pinned[package]}: run `make venv` (npm ci)")
        names.append(f"{package}-{version}.js")
        sources.append(source)
    names.append(RUNTIME_URL)
    sources.append(runtime_bundle())
    return Assets(names=tuple(names), sources=tuple(sources))

"""The `userAgent` object scripts see: the raw header and what it says in words."""
from __future__ import annotations

from functools import lru_cache

MAX_RAW_LENGTH = 512


@lru_cache(maxsize=1024)
def user_agent_object(raw: str | None) -> dict:
    """{"raw", "browser", "platform", "device"} for a User-Agent header (empty strings when unknown)."""
    from user_agents import parse

    raw = (raw or "")[:MAX_RAW_LENGTH]
    if not raw:
        return {"raw": "", "browser": "", "platform": "", "device": ""}
    agent = parse(raw)
    return {
        "raw": raw,
        "browser": _named(agent.browser.family, agent.browser.version_string.split(".")[0]),
        "platform": _named(agent.os.family, agent.os.version_string),
        "device": _device(agent),
    }


def _named(family: str, version: str) -> str:
    if not family or family == "Other":
        return ""
    return f"{family} {version}".strip()


def _device(agent) -> str:
    if agent.device.family and agent.device.family != "Other":
        return agent.device.family
    if agent.is_bot:
        return "Bot"
    if agent.is_tablet:
        return "Tablet"
    if agent.is_mobile:
        return "Mobile"
    return "Desktop" if agent.is_pc else ""

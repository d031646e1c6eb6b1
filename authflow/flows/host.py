"""The engine's view of the world during a real login: the directory and sessions, and effects recorded once."""
from __future__ import annotations

from authflow.directory import services as directory
from authflow.sso import service as sso

from . import effects
from .models import EffectRecord, LoginFlow


class DirectoryHost:
    def __init__(self, flow: LoginFlow, applied_effects: int):
        self.flow = flow
        self.next_index = applied_effects

    def load_user(self, username: str):
        snapshot = directory.user_snapshot(username)
        if snapshot is not None:
            snapshot["sessions"] = sso.sessions_of(username)
        return snapshot

    def apply_effect(self, name: str, args: list):
        # The unique (flow, index) row makes a second application of the same
        # effect fail the transaction, whatever the isolation level.
        record = EffectRecord.objects.create(flow=self.flow, index=self.next_index, name=name, args=args)
        self.next_index += 1
        result = effects.apply(name, args)
        record.result = result
        record.save(update_fields=["result"])
        return result

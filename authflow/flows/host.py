"""The engine's view of the world during a real login: the directory, sessions and lookups, effects recorded once."""
from __future__ import annotations

from authflow.directory import services as directory

from . import effects, lookups, sealing
from .models import EffectRecord, LoginFlow


class DirectoryHost:
    def __init__(self, flow: LoginFlow, applied_effects: int, known_user=None):
        self.flow = flow
        self.next_index = applied_effects
        self.known_user = known_user  # a User the request read already (directory.user_snapshot's `known`)

    def load_user(self, username: str):
        # sessions: the "sessions" lookup, when a script reads them
        return directory.user_snapshot(username, known=self.known_user)

    def lookup(self, kind: str, key):
        return lookups.lookup(kind, key)

    def apply_effect(self, name: str, args: list):
        # The unique (flow, index) row makes a second application of the same
        # effect fail the transaction, whatever the isolation level.
        record = EffectRecord.objects.create(flow=self.flow, index=self.next_index, name=name,
                                             args=sealing.effect_args(name, args))
        self.next_index += 1
        result = effects.apply(name, args, flow=self.flow)
        record.result = result
        record.save(update_fields=["result"])
        return result

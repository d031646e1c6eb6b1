"""A real SMTP server for tests (aiosmtpd, in a thread of the test process) and the messages it received.

    server = SmtpServer().start()       # 127.0.0.1:<free port>
    message = server.inbox.wait_for(lambda m: m.to == ["alice@example.com"])
    message.subject, message.text, message.html

`refuse` lets a test make the server answer DATA with an error for some
messages (e.g. "451 ..." once, to see the sender retry).
"""
from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command at INFO

from .servers import free_port


@dataclass
class Received:
    mail_from: str
    to: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content().replace("\r\n", "\n") if part is not None else ""

    @property
    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        return part.get_content() if part is not None else ""

    def code(self) -> str:
        """The 6-digit code in the text body."""
        found = re.search(r"\b(\d{6})\b", self.text)
        assert found, f"no 6-digit code in the message:\n{self.text}"
        return found.group(1)

    def link(self) -> str:
        """The sign-in link in the text body."""
        found = re.search(r"https?://\S+/login/magic/\S+/", self.text)
        assert found, f"no sign-in link in the message:\n{self.text}"
        return found.group(0)


class Inbox:
    def __init__(self):
        self._lock = threading.Condition()
        self.messages: list[Received] = []
        # Every DATA the server saw, refused ones included: (recipients, reply).
        self.attempts: list[tuple[list[str], str]] = []
        # A test's hook: returns an SMTP reply such as "451 try later" to refuse a message, or None to take it.
        self.refuse: Callable[[list[str], EmailMessage], str | None] | None = None

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        to = list(envelope.rcpt_tos)
        reply = self.refuse(to, message) if self.refuse else None
        with self._lock:
            self.attempts.append((to, reply or "250 OK"))
            if reply is None:
                self.messages.append(Received(envelope.mail_from, to, message))
            self._lock.notify_all()
        return reply or "250 Message accepted for delivery"

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.attempts.clear()
            self.refuse = None

    def matching(self, predicate: Callable[[Received], bool] | None = None) -> list[Received]:
        with self._lock:
            return [m for m in self.messages if predicate is None or predicate(m)]

    def wait_for(self, predicate: Callable[[Received], bool] | None = None, *, count: int = 1,
                 timeout: float = 30.0) -> Received:
        """The `count`-th message matching `predicate`, waiting for it; fails with what did arrive."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [m for m in self.messages if predicate is None or predicate(m)]
                if len(found) >= count:
                    return found[count - 1]
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(m.to, m.subject) for m in self.messages]
                    raise AssertionError(f"no message (#{count}) arrived within {timeout:.0f}s; received: {seen}")
                self._lock.wait(min(left, 0.5))


class SmtpServer:
    def __init__(self):
        self.inbox = Inbox()
        self.port = free_port()
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

"""A sandbox process: one V8 isolate that runs scripts for the web process that started it.

It is forked by the fork server (forkserver.py), or started by
`supervisor.SandboxProcess` as `python -I worker.py REQUEST_FD REPLY_FD
[OWNER_PIDFD]`, imports nothing of the project (nor Django), gets no environment
(no database address, no secrets), and talks to its web process over two pipes.
The parent sends the JavaScript to load (SES, acorn, the runtime bundle), then
requests; each reply comes back only after V8 has run whatever the request
queued, so deferred work is blamed on the request that made it.

It holds no limit of its own on time: its web process kills it when a request
outlives its deadline.  Memory is bounded twice: V8's heap limit stops a run
cleanly, and RLIMIT_DATA caps everything else (ArrayBuffers, huge arrays) by
making the allocation fail, which kills this process and only this process.

This file is also the protocol's definition (read_frame / write_frame), which
the parent imports.
"""
from __future__ import annotations

import json
import os
import re
import resource
import select
import struct
import sys
import threading
import time

_HEAD = struct.Struct(">II")  # header length, body length
MAX_FRAME = 64 * 1024 * 1024

EXIT_EOF, EXIT_MEMORY, EXIT_ENGINE, EXIT_ORPHANED = 0, 3, 4, 5
# mini-racer's default (no V8 worker threads: a fork server may fork), and a young generation of at most
# 1 MB per semi-space (1.5 MB less per sandbox after many runs; no slower per round trip, by CPU time).
V8_FLAGS = ("--single-threaded", "--max-semi-space-size=1")


class ProtocolError(Exception):
    pass


def write_frame(fd: int, header: dict, body: bytes = b"") -> None:
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    data = _HEAD.pack(len(head), len(body)) + head + body
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_exactly(fd: int, size: int) -> bytes | None:
    """`size` bytes from `fd`, or None at the end of the stream before the first byte."""
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            if left == size:
                return None
            raise ProtocolError("the stream ended inside a frame")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def parse_frame_head(head: bytes) -> tuple[int, int]:
    header_size, body_size = _HEAD.unpack(head)
    if header_size > MAX_FRAME or body_size > MAX_FRAME:
        raise ProtocolError("frame too large")
    return header_size, body_size


def read_frame(fd: int) -> tuple[dict, bytes] | None:
    head = read_exactly(fd, _HEAD.size)
    if head is None:
        return None
    header_size, body_size = parse_frame_head(head)
    header = json.loads(read_exactly(fd, header_size) or b"{}")
    body = read_exactly(fd, body_size) if body_size else b""
    return header, body


def _status_kb(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _limit_resources(data_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash leaves no core file
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # and the process writes no file
    resource.setrlimit(resource.RLIMIT_DATA, (data_bytes, data_bytes))


class Worker:
    def __init__(self, request_fd: int, reply_fd: int):
        self.request_fd = request_fd
        self.reply_fd = reply_fd
        self.ctx = None

    def serve(self) -> int:
        # mini-racer's synchronous path runs on its own event loop thread: the
        # whole loop runs there (no timers or cross-thread hops per request).
        import asyncio

        from py_mini_racer import MiniRacer, init_mini_racer

        init_mini_racer(flags=V8_FLAGS, ignore_duplicate_init=True)  # forked: the fork server did it already
        racer = MiniRacer()
        self.ctx = racer._ctx  # noqa: SLF001 - the synchronous API of the pinned mini-racer

        async def loop() -> int:
            return self._loop()

        return asyncio.run_coroutine_threadsafe(loop(), self.ctx.event_loop).result()

    def _loop(self) -> int:
        from py_mini_racer import JSOOMException

        while True:
            try:
                frame = read_frame(self.request_fd)
            except ProtocolError:
                return EXIT_ENGINE
            if frame is None:
                return EXIT_EOF
            header, body = frame
            try:
                reply_header, reply_body = self._handle(header, body)
            except JSOOMException:
                write_frame(self.reply_fd, {"ok": False, "limit": "memory"})
                return EXIT_MEMORY
            except Exception as exc:  # noqa: BLE001 - the runtime catches script errors; this is the engine failing
                write_frame(self.reply_fd, {"ok": False, "engine": f"{type(exc).__name__}: {exc}"[:2000]})
                return EXIT_ENGINE
            write_frame(self.reply_fd, reply_header, reply_body)

    def _handle(self, header: dict, body: bytes) -> tuple[dict, bytes]:
        op = header.get("op")
        if op == "boot":
            return self._boot(header, body), b""
        if op == "run":
            code = f"__authflow.run({json.dumps(header['program'])}, {json.dumps(body.decode('utf-8'))})"
        elif op == "compile":
            code = (f"__authflow.compile({json.dumps(header['program'])}, {json.dumps(body.decode('utf-8'))}, "
                    f"{json.dumps(header.get('kind', 'login'))})")
        elif op == "check":
            code = f"__authflow.check({json.dumps(body.decode('utf-8'))}, {json.dumps(header.get('kind', 'login'))})"
        elif op == "outline":
            code = f"__authflow.outline({json.dumps(body.decode('utf-8'))})"
        elif op == "lint":
            code = f"__authflow.lint({json.dumps(body.decode('utf-8'))}, {json.dumps(header.get('kind', 'login'))})"
        elif op == "describe":
            code = f"__authflow.describe({json.dumps(header.get('kind', 'login'))})"
        else:
            raise ValueError(f"unknown request {op!r}")
        result = str(self.ctx.eval(code))
        self.ctx.eval("0")  # V8 runs what the request queued before this: before the reply, not after
        if op != "run" and '"kind":"syntax"' in result:
            result = _with_v8_syntax_error(result, body.decode("utf-8"))
        return {"ok": True}, result.encode("utf-8")

    def _boot(self, header: dict, body: bytes) -> dict:
        offset = 0
        for name, size in zip(header["names"], header["sizes"]):
            source = body[offset:offset + size].decode("utf-8")
            offset += size
            self.ctx.eval(source + f"\n//# sourceURL={name}\n;0")
        self.ctx.eval("0")
        self.ctx.low_memory_notification()  # a full GC once loaded: the young generation's pages go (2 MB)
        memory = int(header["memory_mb"]) * 1024 * 1024
        heap = json.loads(self.ctx.heap_stats())
        self.ctx.set_hard_memory_limit(int(heap.get("used_heap_size", 0)) + memory)
        # Everything beyond what the loaded isolate maps now is the script's:
        # the heap limit, as much again outside the heap, and some room for V8.
        data = _status_kb("VmData") * 1024 + 2 * memory + 64 * 1024 * 1024
        _limit_resources(data)
        return {"ok": True, "pid": os.getpid(), "rss_kb": _status_kb("VmRSS")}


_V8_LOCATION = re.compile(r"^<anonymous>:(\d+): (SyntaxError: .*)$", re.M)
# `throw 0;` first: should the text parse after all, evaluating it runs nothing of the script.
_LOCATE_PREFIX = 'throw 0;\n(function () { "use strict";\n'


def _with_v8_syntax_error(verdict_text: str, source: str) -> str:
    """The check's verdict with V8's own message and position for a syntax error (clearer than the parser's).

    V8 reports positions only for code it compiles as a script, so the
    source is compiled in a throwaway isolate holding nothing else.
    """
    from py_mini_racer import JSParseException, MiniRacer

    verdict = json.loads(verdict_text)
    racer = MiniRacer()
    try:
        racer.eval(_LOCATE_PREFIX + source + "\n})")
    except JSParseException as exc:
        text = str(exc)
        match = _V8_LOCATION.search(text)
        if match:
            line = int(match.group(1)) - 2
            column = None
            for candidate in text.splitlines():
                if candidate.strip() and set(candidate.strip()) == {"^"}:
                    column = candidate.index("^") + 1
                    break
            last_line = source.count("\n") + 1
            if line > last_line:  # the end of the text (an unclosed block)
                line, column = last_line, None
            verdict["error"].update(message=match.group(2).strip(), line=max(line, 1), column=column)
    except Exception:  # noqa: BLE001 - V8 accepts it (or it ran into `throw 0`): the parser's verdict stands
        pass
    finally:
        racer.close()
    return json.dumps(verdict)


def _exit_with_owner(owner_pidfd: int | None) -> None:
    """A sandbox outlives no web process, even one that died while a script was looping here.

    The owner is the web process that uses this sandbox: given as a pidfd
    (readable once that process has ended, whichever process is this one's
    parent: a fork server's sandbox is not its web process's child), or else
    this process's parent.
    """
    if owner_pidfd is not None:
        def watch():
            poller = select.poll()
            poller.register(owner_pidfd, select.POLLIN)
            while not poller.poll():
                pass
            os._exit(EXIT_ORPHANED)
    else:
        parent = os.getppid()

        def watch():
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(EXIT_ORPHANED)

    threading.Thread(target=watch, name="owner-watch", daemon=True).start()


def main(argv: list[str]) -> int:
    request_fd, reply_fd = int(argv[1]), int(argv[2])
    _exit_with_owner(int(argv[3]) if len(argv) > 3 else None)
    return Worker(request_fd, reply_fd).serve()


if __name__ == "__main__":
    sys.exit(main(sys.argv))

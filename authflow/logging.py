"""One JSON object per log line, with the context fields passed in `extra`.

Code logs the flow it works on as `extra={"flow_id": ...}`; the formatter
copies every such field into the line, so operators can filter by flow.

URLs in log lines lose what may carry a credential: query strings (an
authorization code, a token sent where it should not be) and the token of
a magic link's path.  Django logs every 4xx and 5xx with its request, and
the development server every request line.

Lines stay short and readable: the development server's socket object and
its own timestamp are left out (the request line says what was asked), and
so are a Celery task's arguments (sealed payloads, kilobytes long, and
nothing an operator reads: the task logs what it did itself).
"""
import json
import logging
import re
import socket

from django.http import HttpRequest

_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_MAGIC_LINK = re.compile(r"(/login/magic/)[^/?\s\"]+")
# "GET /path?query HTTP/1.1" in the development server's request lines.
_QUERY_IN_REQUEST_LINE = re.compile(r"(\"[A-Z]+ [^\s?\"]*)\?[^\s\"]*")
_LEFT_OUT = {"django.server": {"server_time"}}
_TASK_ARGUMENTS = ("args", "kwargs")


def redact_path(path: str) -> str:
    return _MAGIC_LINK.sub(r"\1[redacted]", path)


def _request(request: HttpRequest) -> str:
    query = "?[redacted]" if request.META.get("QUERY_STRING") else ""
    return f"{request.method} {redact_path(request.path)}{query}"


class JsonFormatter(logging.Formatter):
    def format(self, record):
        message = record.getMessage()
        if record.name == "django.server":
            message = redact_path(_QUERY_IN_REQUEST_LINE.sub(r"\1?[redacted]", message))
        elif record.name == "django.request":
            message = redact_path(message)
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": message,
        }
        left_out = _LEFT_OUT.get(record.name, ())
        for key, value in vars(record).items():
            if key in _STANDARD_ATTRS or key.startswith("_") or key in left_out or isinstance(value, socket.socket):
                continue
            if isinstance(value, HttpRequest):
                value = _request(value)
            elif record.name.startswith("celery") and isinstance(value, dict):
                value = {k: v for k, v in value.items() if k not in _TASK_ARGUMENTS}
            line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)

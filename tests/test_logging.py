"""Log lines are JSON, name the flow, and never carry a credential that came in a URL."""
import io
import json
import logging

import pytest
from django.test import Client

from authflow.logging import JsonFormatter

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_lines():
    """The formatted lines Django's request and server loggers write during the test."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    loggers = [logging.getLogger(name) for name in ("django.request", "django.server", "authflow")]
    for logger in loggers:
        logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    for logger in loggers:
        logger.removeHandler(handler)


def test_a_refused_request_is_logged_without_its_query_string_or_magic_link_token(log_lines):
    client = Client(raise_request_exception=False)
    client.get("/o/userinfo/", {"access_token": "TOKEN-IN-THE-URL-1234"})
    client.get("/login/magic/SELECTOR123.VERIFIER-SECRET-5678/")
    lines = log_lines()
    text = json.dumps(lines)
    assert "TOKEN-IN-THE-URL-1234" not in text and "VERIFIER-SECRET-5678" not in text and "SELECTOR123" not in text
    assert [line["request"] for line in lines if line["logger"] == "django.request"] == [
        "GET /o/userinfo/?[redacted]"]


def test_a_request_in_a_log_line_is_its_method_and_redacted_path():
    from django.test import RequestFactory

    request = RequestFactory().get("/login/magic/SELECTOR123.VERIFIER-SECRET-5678/", {"x": "1"})
    record = logging.makeLogRecord({"name": "django.request", "levelno": logging.WARNING, "levelname": "WARNING",
                                    "msg": "Gone: %s", "args": (request.path,), "request": request})
    line = json.loads(JsonFormatter().format(record))
    assert line["request"] == "GET /login/magic/[redacted]/?[redacted]"
    assert line["message"] == "Gone: /login/magic/[redacted]/"


def test_the_development_server_s_request_lines_lose_their_query_strings():
    record = logging.makeLogRecord({"name": "django.server", "levelno": logging.WARNING, "levelname": "WARNING",
                                    "msg": '"%s" %s %s', "args": ("GET /o/authorize/?code=abc123&state=s HTTP/1.1",
                                                                  "400", "12")})
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == '"GET /o/authorize/?[redacted] HTTP/1.1" 400 12'


def test_context_fields_are_copied_into_the_line():
    record = logging.makeLogRecord({"name": "authflow.flows", "levelno": logging.INFO, "levelname": "INFO",
                                    "msg": "flow started", "flow_id": "f-1", "application": "portal"})
    line = json.loads(JsonFormatter().format(record))
    assert (line["message"], line["flow_id"], line["application"], line["level"]) == (
        "flow started", "f-1", "portal", "info")


def test_the_development_server_s_socket_and_a_task_s_arguments_stay_out_of_the_line():
    import socket

    with socket.socket() as connection:
        record = logging.makeLogRecord({"name": "django.server", "levelno": logging.WARNING, "levelname": "WARNING",
                                        "msg": '"GET /x HTTP/1.1" 404 1', "request": connection,
                                        "server_time": "01/Dec/2026 10:00:00", "status_code": 404})
        line = json.loads(JsonFormatter().format(record))
    assert line == {"time": line["time"], "level": "warning", "logger": "django.server",
                    "message": '"GET /x HTTP/1.1" 404 1', "status_code": 404}
    record = logging.makeLogRecord({"name": "celery.app.trace", "levelno": logging.INFO, "levelname": "INFO",
                                    "msg": "Task t[1] succeeded", "data": {"id": "1", "name": "t", "runtime": 0.1,
                                                                          "args": "['v1:sealed...']", "kwargs": "{}"}})
    assert json.loads(JsonFormatter().format(record))["data"] == {"id": "1", "name": "t", "runtime": 0.1}

"""A real Celery worker and a real SMTP server for the email tests.

The `mailer` fixture gives a test the path an email takes in production:
the test process (and its live server thread) enqueue on Redis
(CELERY_BROKER_URL; not eager), a `celery -A authflow worker` subprocess on
the test database consumes the queue and sends through Django's SMTP
backend to an aiosmtpd server in this process, whose messages the test
reads (`mailer.inbox`, see smtp.py).  The queue is unique to the test run
(settings.AUTHFLOW_MAIL_QUEUE is pointed at it for the test) and purged
when the worker starts, so nothing else's tasks reach it and it reaches
nothing else's worker.

The same worker makes the outbound calls of login scripts (httpGet, httpPost,
callAnalytics, publishToAnalytics): the `worker` fixture points the test's
calls at its queue (settings.AUTHFLOW_CALL_QUEUE) and gives the test process
the worker's short call timeouts (CALL_TIMEOUT_SECONDS, CALL_DEADLINE_MARGIN_SECONDS),
so both compute the same deadlines.  A flow the worker resumes queues its
next call on the same queue (AUTHFLOW_CALL_QUEUE in the worker's environment).

The worker and the SMTP server start with the first test that asks for
them and stop at the end of the session; tests that never send email or
make calls never start them.  Redis not running, or a worker that does not
come up, fails the test with the reason (never a skip).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from .servers import server_env, signing_key
from .smtp import SmtpServer
from .processes import end_with_parent

ROOT = Path(__file__).resolve().parents[2]
_CELERY = Path(sys.executable).with_name("celery")
# The worker's outbound call settings (short, so that the tests about timeouts stay fast).
CALL_TIMEOUT_SECONDS = 3.0
CALL_DEADLINE_MARGIN_SECONDS = 2.0


def broker_url() -> str:
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url:
        pytest.fail("CELERY_BROKER_URL is not set: the email tests send through Redis and a Celery worker. "
                    "Run them with `make test` (which starts Redis), or set CELERY_BROKER_URL=redis://127.0.0.1:6379/0.",
                    pytrace=False)
    return url


def check_redis(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is not reachable at {url} ({exc}). `make test` starts it "
                    f"(scripts/ensure-services.sh redis).", pytrace=False)


class WorkerDidNotStart(AssertionError):
    pass


class CeleryWorker:
    """`celery -A authflow worker` consuming one queue, its output in a file."""

    def __init__(self, env: dict, queue: str, log_dir: Path):
        self.env = env
        self.queue = queue
        self.node = f"mailtest-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
        self.log_path = Path(log_dir) / f"celery-{self.queue}.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> CeleryWorker:
        from authflow.celery import app

        with app.connection_for_write() as connection:
            connection.default_channel.queue_purge(self.queue)
        command = [str(_CELERY)] if _CELERY.exists() else [sys.executable, "-m", "celery"]
        command += ["-A", "authflow", "worker", "--pool=solo", "--concurrency=1", "--without-heartbeat",
                    "--without-gossip", "--without-mingle", "-Q", self.queue, "-n", self.node, "--loglevel=INFO"]
        with open(self.log_path, "wb") as log:  # a file, not a pipe: a full pipe would block the worker
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, preexec_fn=end_with_parent)
        deadline = time.monotonic() + timeout
        while True:
            code = self.process.poll()
            if code is not None:
                raise WorkerDidNotStart(f"the Celery worker exited with {code} before it was ready:\n{self.output()}")
            if app.control.ping(destination=[self.node], timeout=0.5):
                return self
            if time.monotonic() > deadline:
                self.stop()
                raise WorkerDidNotStart(f"the Celery worker {self.node} did not answer a ping within "
                                        f"{timeout:.0f}s:\n{self.output()}")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.alive():
            self.process.terminate()  # warm shutdown: finishes the task in hand
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def output(self, limit: int = 8000) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return text[-limit:] or "(no output)"

    def wait_for_output(self, text: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output(limit=10**7):
            if time.monotonic() > deadline:
                raise AssertionError(f"the worker did not log {text!r} within {timeout:.0f}s:\n{self.output()}")
            time.sleep(0.05)


class Mailer:
    """The SMTP server and the worker sending to it."""

    def __init__(self, smtp: SmtpServer, worker: CeleryWorker):
        self.smtp = smtp
        self.worker = worker
        self.inbox = smtp.inbox
        self.queue = worker.queue

    def stop(self) -> None:
        self.worker.stop()
        self.smtp.stop()


_running: Mailer | None = None


@pytest.fixture(scope="session")
def mail_worker(django_db_setup, tmp_path_factory):
    """The session's SMTP server and Celery worker (one for all the email tests, started on first use)."""
    global _running
    if _running is None:
        from django.db import connection

        url = broker_url()
        check_redis(url)
        smtp = SmtpServer().start()
        queue = f"authflow-test-mail-{uuid.uuid4().hex[:12]}"
        env = server_env(connection.settings_dict, signing_key(), CELERY_BROKER_URL=url,
                         AUTHFLOW_EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                         AUTHFLOW_EMAIL_HOST="127.0.0.1", AUTHFLOW_EMAIL_PORT=str(smtp.port),
                         AUTHFLOW_MAIL_RETRY_SECONDS="0.3", AUTHFLOW_CALL_QUEUE=queue,
                         AUTHFLOW_CALL_TIMEOUT_SECONDS=str(CALL_TIMEOUT_SECONDS),
                         AUTHFLOW_CALL_DEADLINE_MARGIN_SECONDS=str(CALL_DEADLINE_MARGIN_SECONDS))
        worker = CeleryWorker(env, queue, tmp_path_factory.mktemp("celery"))
        try:
            worker.start()
        except BaseException:
            smtp.stop()
            raise
        _running = Mailer(smtp, worker)
    yield _running
    if _running is not None:
        _running.stop()
        _running = None


def _check_running(mail_worker) -> None:
    from authflow.celery import app

    assert not app.conf.task_always_eager, "the test process must enqueue (a broker is configured), not run tasks inline"
    if not mail_worker.worker.alive():
        pytest.fail(f"the Celery worker is not running:\n{mail_worker.worker.output()}", pytrace=False)


@pytest.fixture
def worker(mail_worker, settings):
    """For one test: outbound calls (and emails) go to the session's worker, with the worker's call timeouts."""
    _check_running(mail_worker)
    settings.AUTHFLOW_MAIL_QUEUE = settings.AUTHFLOW_CALL_QUEUE = mail_worker.queue
    settings.AUTHFLOW_CALL_TIMEOUT_SECONDS = CALL_TIMEOUT_SECONDS
    settings.AUTHFLOW_CALL_DEADLINE_MARGIN_SECONDS = CALL_DEADLINE_MARGIN_SECONDS
    yield mail_worker.worker


@pytest.fixture
def mailer(mail_worker, settings):
    """For one test: its emails go to the session's worker queue; the inbox starts empty."""
    _check_running(mail_worker)
    settings.AUTHFLOW_MAIL_QUEUE = mail_worker.queue
    mail_worker.inbox.clear()
    yield mail_worker
    mail_worker.inbox.clear()

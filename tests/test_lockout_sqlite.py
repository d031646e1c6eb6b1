"""A password check on the embedded default (SQLite, `make run`): no statement only PostgreSQL accepts.

Run in its own process on a throwaway SQLite database, as `make run` runs: a correct password is allowed and ends
the count, a wrong one is counted, an unknown username is counted the same way, and the threshold locks.
"""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = textwrap.dedent("""
    import json
    from django.core.management import call_command
    from authflow.directory import lockout, services
    from authflow.directory.models import Role, User

    call_command("migrate", verbosity=0)
    User.objects.create_user("alice", password="alice-password-123").roles.add(Role.objects.create(name="admin"))
    seen = []
    for name, right in [("alice", False), ("alice", False), ("alice", True), ("nobody", False)]:
        with lockout.password_attempt(name) as attempt:
            seen.append(attempt.allowed)
            if attempt.allowed and right:
                lockout.record_success(User.objects.get(username=name))
            elif attempt.allowed:
                lockout.attempt_failed(attempt, "192.0.2.1")
    alice = User.objects.get(username="alice")
    for _ in range(5):
        with lockout.password_attempt("alice") as attempt:
            if attempt.allowed:
                lockout.attempt_failed(attempt, None)
    with lockout.password_attempt("alice") as attempt:
        locked = not attempt.allowed and "locked" in str(attempt.message)
    print(json.dumps({"roles": services.user_snapshot("alice")["roles"], "allowed": seen, "before_success": alice.failed_login_attempts_before_success,
                      "failures": alice.failed_login_attempts, "locked": locked}))
""")


def test_a_users_snapshot_and_password_attempts_work_on_the_embedded_sqlite_default(tmp_path):
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "CELERY_BROKER_URL", "AUTHFLOW_CACHE_URL")}
    env.update(AUTHFLOW_DEBUG="1", DJANGO_SETTINGS_MODULE="authflow.settings",
               DATABASE_URL=f"sqlite:///{tmp_path / 'embedded.sqlite3'}")
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", PROBE], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen == {"roles": ["admin"], "allowed": [True, True, True, True], "before_success": 2, "failures": 0, "locked": True}

"""Shared test configuration.

Sections: (1) CI guard: under CI=true a skipped test fails the run, naming the
missing component.  (2) Shared state every test starts without.  (3) pytest-django's
admin_client, signed in as the admin console asks.
"""
import os

import pytest

# ---------------------------------------------------------------- (1) CI guard

IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which must run every test: {reason}"



# ---------------------------------------------------------------- (2) shared state

@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters (per client address) live in the cache, Redis under `make test`: start each test clean."""
    from django.core.cache import cache

    cache.clear()
    yield


# ---------------------------------------------------------------- (3) admin_client

@pytest.fixture
def admin_client(client, admin_user):
    """pytest-django's admin_client, signed in through the account application (authflow/console.py)."""
    from tests.support.console import sign_in_to_console

    sign_in_to_console(client, admin_user)
    return client

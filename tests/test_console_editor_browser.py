"""The console's script editor in a real browser (Debian's Chromium via Playwright), under the
Content-Security-Policy: CodeMirror loads from this server, a check error shows at its line, and saving creates
a version.  Screenshots land in test-artifacts/screenshots/."""
import os

import pytest

from sequences.api import publish_version
from sequences.models import Sequence, SequenceVersion
from tests.support.chromium import chromium, screenshot  # noqa: F401  (chromium: a fixture)
from tests.support.console import console  # noqa: F401  (a fixture)

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.django_db(transaction=True)

V1 = """var onLoginRequest = function (context) {
    executeStep(1);
};
"""


def test_type_into_the_editor_see_the_error_at_its_line_fix_it_and_save(live_server, admin_user, console):
    sequence = Sequence.objects.create(name="portal")
    publish_version(SequenceVersion.objects.create(sequence=sequence, number=1, source=V1, author=admin_user))
    page, refused = console.page, console.refused
    page.goto(live_server.url + "/console/scripts/portal/edit/")
    page.wait_for_selector("#editor[data-ready=true] .cm-content")
    assert page.locator("#source").is_hidden()  # the editor replaced the plain field
    assert page.locator(".cm-lineNumbers .cm-gutterElement", has_text="3").count() == 1
    assert page.locator(".cm-content").inner_text().startswith("var onLoginRequest = function (context) {")
    assert page.locator(".cm-content span").count() > 3  # highlighted: tokens in their own spans

    page.locator(".cm-content").click()
    page.keyboard.press("Control+f")  # search
    page.wait_for_selector(".cm-search input[name=search]")
    page.keyboard.press("Escape")

    # the test panel runs the text being edited against the scenario it starts with
    page.get_by_role("button", name="Run").click()
    page.wait_for_selector("#trace-status:has-text('Result:')")
    assert page.locator("#trace-status").inner_text() == "Result: success (subject alice)"
    assert page.locator("#trace li").count() >= 1
    screenshot(page, "console-test-panel")

    page.locator(".cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.type("var broken = ;")
    screenshot(page, "console-editor-typing")
    page.get_by_role("button", name="Save as a new version").click()
    page.wait_for_selector("#script-errors")
    assert "Line 4" in page.locator("#script-errors").inner_text()
    page.wait_for_selector("#editor[data-ready=true] .cm-lint-marker-error")  # in the gutter, at line 4
    assert "var broken = ;" in page.locator(".cm-content").inner_text()  # the text typed is kept
    screenshot(page, "console-editor-error")
    assert sequence.versions.count() == 1

    page.locator(".cm-content").click()
    page.keyboard.press("Control+End")
    for _ in range(len("var broken = ;")):
        page.keyboard.press("Backspace")
    page.keyboard.type("var fixed = 2;")
    page.get_by_role("button", name="Save as a new version").click()
    page.wait_for_selector("tr#v2")
    assert "Saved version 2 of portal" in page.locator(".console-messages").inner_text()
    screenshot(page, "console-versions")
    assert sequence.versions.get(number=2).source == V1 + "var fixed = 2;"
    sequence.refresh_from_db()
    assert sequence.live_version.number == 1
    assert refused == []

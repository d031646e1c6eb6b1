"""Configuration files for `manage.py apply` in tests."""
from __future__ import annotations

import textwrap

CALLBACK = "http://127.0.0.1:9/callback"  # a registered redirect URI nothing listens on


def public_app(name: str, steps: str, script: str, redirect_uri: str = CALLBACK) -> str:
    """One entry of the `applications` list: a public client `name` with `steps` (YAML) and `script`."""
    return textwrap.dedent(f"""
          - name: {name}
            client_id: {name}
            client_type: public
            redirect_uris: ["{redirect_uri}"]
            steps: {steps}
            script: |
        """).lstrip("\n") + textwrap.indent(textwrap.dedent(script).strip("\n"), " " * 10) + "\n"

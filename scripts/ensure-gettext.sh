#!/usr/bin/env bash
# GNU gettext (xgettext, msgfmt): the language tests extract the marked strings again (makemessages) to check
# that every one is in the shipped catalogs.  Installed from Debian's packages when missing.  The compiled
# catalogs (.mo) are committed, so running the service does not need it.
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if command -v xgettext >/dev/null && command -v msgfmt >/dev/null; then
  exit 0
fi
echo "ensure-gettext: installing gettext from Debian's packages" >&2
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null
command -v xgettext >/dev/null || { echo "ensure-gettext: ERROR: gettext did not install" >&2; exit 1; }

#!/usr/bin/env bash
# Installs Debian's Node.js and npm when missing: `make venv` uses npm (npm ci)
# to install the JavaScript the script engine's sandbox loads (package-lock.json).
set -euo pipefail
if command -v node >/dev/null && command -v npm >/dev/null; then
  exit 0
fi
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
echo "ensure-node: installing nodejs and npm from Debian's packages"
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
node --version

#!/usr/bin/env bash
# xmlsec1, which pysaml2 runs to sign SAML AuthnRequests and verify the IdP's signatures (federation/saml.py):
# installed from Debian's packages when missing.
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if command -v xmlsec1 >/dev/null; then
  exit 0
fi
echo "ensure-xmlsec1: installing xmlsec1 from Debian's packages" >&2
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xmlsec1 >/dev/null
command -v xmlsec1 >/dev/null || { echo "ensure-xmlsec1: ERROR: xmlsec1 did not install" >&2; exit 1; }

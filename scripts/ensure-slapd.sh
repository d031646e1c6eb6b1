#!/usr/bin/env bash
# OpenLDAP's slapd for the user-store tests (a real directory, as PostgreSQL is a real database).
#
#   scripts/ensure-slapd.sh                      installs Debian's slapd and ldap-utils when missing
#   scripts/ensure-slapd.sh start DIR PORT LDIF  also starts a throwaway slapd: its configuration and data
#                                                in DIR (a fresh temporary folder), listening on
#                                                127.0.0.1:PORT, suffix dc=authflow,dc=test, loaded with
#                                                LDIF; prints its process id.  No system configuration is
#                                                read or changed; under root it runs as the openldap user.
#
# The test suite calls `start` once per session and kills the process id it printed.
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
say() { echo "ensure-slapd: $*" >&2; }
die() { echo "ensure-slapd: ERROR: $*" >&2; exit 1; }

SLAPD=/usr/sbin/slapd
SLAPADD=/usr/sbin/slapadd

install_if_missing() {
  if [ -x "$SLAPD" ] && command -v ldapsearch >/dev/null; then
    return 0
  fi
  say "installing slapd and ldap-utils from Debian's packages"
  # The package's own debconf questions: answered by their defaults; its system instance is not used.
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slapd ldap-utils >/dev/null
  [ -x "$SLAPD" ] || die "slapd did not install"
}

start() {
  local dir=$1 port=$2 ldif=$3
  [ -d "$dir" ] || die "$dir is not a folder"
  [ -r "$ldif" ] || die "cannot read $ldif"
  mkdir -p "$dir/data"
  cat >"$dir/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile $dir/slapd.pid
argsfile $dir/slapd.args
database mdb
maxsize 16777216
suffix "dc=authflow,dc=test"
rootdn "cn=admin,dc=authflow,dc=test"
rootpw admin-secret
directory $dir/data
index objectClass eq
index uid eq
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
CONF
  "$SLAPADD" -q -f "$dir/slapd.conf" -l "$ldif" >"$dir/slapadd.log" 2>&1 || { cat "$dir/slapadd.log" >&2; die "slapadd failed"; }
  local owner=()
  if [ "$(id -u)" -eq 0 ]; then
    # Never run a network daemon as root: the folder goes to the openldap user, which slapd becomes.
    chown -R openldap:openldap "$dir"
    owner=(-u openldap -g openldap)
  fi
  "$SLAPD" -f "$dir/slapd.conf" -h "ldap://127.0.0.1:$port/" "${owner[@]}" -s 0 2>"$dir/slapd.log" \
    || { cat "$dir/slapd.log" >&2; die "slapd did not start"; }
  for _ in $(seq 1 100); do
    if [ -s "$dir/slapd.pid" ] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      cat "$dir/slapd.pid"
      return 0
    fi
    sleep 0.1
  done
  die "slapd did not listen on 127.0.0.1:$port within 10 s"
}

install_if_missing
case "${1:-}" in
  "") say "slapd is installed: $SLAPD" ;;
  start) [ $# -eq 4 ] || die "usage: $0 start DIR PORT LDIF"; start "$2" "$3" "$4" ;;
  *) die "unknown command $1 (expected nothing or start)" ;;
esac

#!/usr/bin/env bash
# Makes sure the services the test suite talks to are running on this machine:
# PostgreSQL on 127.0.0.1:5432 (role postgres, password postgres, CREATEDB) and
# Redis on 127.0.0.1:6379.  Installs them from Debian's packages when missing,
# starts them when stopped, and does nothing when they are already up.
#
#   scripts/ensure-services.sh [postgres] [redis]     (default: both)
set -euo pipefail

services=("$@")
[ ${#services[@]} -eq 0 ] && services=(postgres redis)

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
say() { echo "ensure-services: $*"; }
die() { echo "ensure-services: ERROR: $*" >&2; exit 1; }

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {  # wait_for NAME COMMAND...
  local name=$1; shift
  for _ in $(seq 1 60); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  die "$name did not come up within 30 s"
}

ensure_postgres() {
  if ! port_open 5432; then
    command -v pg_ctlcluster >/dev/null || { say "installing postgresql"; apt_install postgresql; }
    local version
    version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$version" ]; then
      version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
      say "creating PostgreSQL $version cluster"
      as_root pg_createcluster "$version" main >/dev/null
    fi
    say "starting PostgreSQL $version"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  fi
  command -v pg_isready >/dev/null || apt_install postgresql-client
  wait_for PostgreSQL pg_isready -h 127.0.0.1 -p 5432
  # The tests log in as postgres/postgres over TCP; with trust auth the
  # password is ignored, with scram it must be set.
  if ! PGPASSWORD=postgres psql -h 127.0.0.1 -U postgres -d postgres -tAc 'select 1' >/dev/null 2>&1; then
    say "setting the postgres role's password for TCP logins"
    if [ "$(id -u)" -eq 0 ]; then
      runuser -u postgres -- psql -qc "ALTER ROLE postgres WITH LOGIN CREATEDB PASSWORD 'postgres'" >/dev/null
    else
      sudo -u postgres psql -qc "ALTER ROLE postgres WITH LOGIN CREATEDB PASSWORD 'postgres'" >/dev/null
    fi
  fi
  PGPASSWORD=postgres psql -h 127.0.0.1 -U postgres -d postgres -tAc 'select 1' >/dev/null \
    || die "cannot log in to PostgreSQL on 127.0.0.1:5432 as postgres"
  say "PostgreSQL is up on 127.0.0.1:5432"
}

ensure_redis() {
  if ! port_open 6379; then
    command -v redis-server >/dev/null || { say "installing redis-server"; apt_install redis-server; }
    say "starting Redis"
    as_root mkdir -p /var/lib/redis /var/log/redis
    as_root redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/authflow.log
  fi
  command -v redis-cli >/dev/null || apt_install redis-tools
  wait_for Redis sh -c '[ "$(redis-cli -h 127.0.0.1 -p 6379 ping)" = PONG ]'
  say "Redis is up on 127.0.0.1:6379"
}

for service in "${services[@]}"; do
  case "$service" in
    postgres) ensure_postgres ;;
    redis) ensure_redis ;;
    *) die "unknown service $service (expected postgres or redis)" ;;
  esac
done

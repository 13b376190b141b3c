#!/usr/bin/env bash
# Starts this machine's PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) when
# they are not answering, installing them through apt-get first when missing.
# Used by .ci/run and by `npm start` when no DATABASE_URL / REDIS_URL is given.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=
apt_install() {
  [ -n "$apt_updated" ] || { as_root apt-get update -qq; apt_updated=1; }
  as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if [ -z "${DATABASE_URL:-}" ] && ! answers 5432; then
  command -v pg_ctlcluster >/dev/null 2>&1 || apt_install postgresql
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start
fi

if [ -z "${REDIS_URL:-}" ] && ! answers 6379; then
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
fi

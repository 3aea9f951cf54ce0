#!/usr/bin/env bash
# Installs the Debian packages whose server binaries the test harness starts as throwaway
# engines (PostgreSQL 15, MariaDB, Redis), the client tools the backups run (pg_dump and
# pg_restore 15, mariadb-dump and mariadb; the server packages depend on them, listed
# here so a missing one is named), plus curl for the seed examples and chromium for
# the Swagger UI browser test (driven by playwright-core, which downloads no browser). Nothing is
# started here: each test file starts and stops its own servers.
set -euo pipefail

missing=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql)
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ -x /usr/lib/postgresql/15/bin/pg_dump ] || missing+=(postgresql-client-15)
[ -x /usr/bin/mariadb-dump ] && [ -x /usr/bin/mariadb ] || missing+=(mariadb-client)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "Installing Debian packages for the test engines: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "Not root: run 'sudo apt-get install -y ${missing[*]}' and try again." >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"

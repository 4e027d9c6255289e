#!/usr/bin/env bash
# Install the system packages the test suite needs: a PostgreSQL server (initdb, pg_ctl,
# postgres), which tests/pgserver.py starts privately for each test session, and Debian's
# chromium with its chromedriver, which the web app's browser tests drive (tests/web).
# Idempotent: prints nothing and changes nothing when the programs are present.
# Debian/Ubuntu only (apt-get); as a normal user it uses sudo.
set -euo pipefail

# Same search as tests/pgserver.py: `pg_config --bindir`, else /usr/lib/postgresql/*/bin.
has_server() {
  local dir
  local dirs=()
  if dir=$(pg_config --bindir 2>/dev/null); then
    dirs+=("$dir")
  fi
  for dir in /usr/lib/postgresql/*/bin; do
    dirs+=("$dir")
  done
  for dir in "${dirs[@]}"; do
    if [ -x "$dir/pg_ctl" ] && [ -x "$dir/initdb" ] && [ -x "$dir/postgres" ]; then
      return 0
    fi
  done
  return 1
}

fail() {
  printf 'install-system-deps: %s\n' "$*" >&2
  exit 1
}

has_browser() {
  command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1
}

packages=()
has_server || packages+=(postgresql)
has_browser || packages+=(chromium chromium-driver fonts-dejavu-core)
[ "${#packages[@]}" -eq 0 ] && exit 0

command -v apt-get >/dev/null 2>&1 \
  || fail "missing ${packages[*]} and no apt-get here; install a PostgreSQL server (initdb, pg_ctl), chromium and chromedriver yourself"

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  fail "installing ${packages[*]} needs root, and sudo is not available: run 'apt-get install ${packages[*]}' as root"
fi

printf 'install-system-deps: installing %s (Debian packages)\n' "${packages[*]}" >&2
${sudo[@]+"${sudo[@]}"} apt-get update -qq
${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null

has_server || fail "apt-get installed postgresql, but pg_ctl, initdb and postgres are still not found"
has_browser || fail "apt-get installed chromium and chromium-driver, but chromium or chromedriver is still not found"

# Shared helpers for the local stack scripts. Source it; do not run it.
# shellcheck shell=bash
set -euo pipefail

PROJECT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export PROJECT_ROOT

DB_HOST="${DB_HOST:-127.0.0.1}"
DB_PORT="${DB_PORT:-54322}"
DB_NAME="${DB_NAME:-postgres}"
# As on hosted Supabase: the cluster's superuser is supabase_admin; everything else connects as
# postgres, a non-superuser with hosted's privileges (scripts/sql/bootstrap.sql).
DB_ADMIN="supabase_admin"
DB_USER="postgres"
DB_PASSWORD="${DB_PASSWORD:-postgres}"
MIN_PG_MAJOR=15

step() { printf '==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# Every folder from / to $1 can be entered by other accounts (the postgres service account).
traversable_by_others() {
  local path="$1" perms
  while [ -n "$path" ] && [ "$path" != "/" ]; do
    perms="$(stat -c %A "$path" 2>/dev/null)" || return 1
    case "${perms:9:1}" in x | t) ;; *) return 1 ;; esac
    path="$(dirname "$path")"
  done
}

# The local cluster lives in the project's .stack folder. As root, PostgreSQL runs as the postgres
# account; when that account cannot reach the project (a checkout under /root), the cluster lives in
# the account's own home instead, one folder per checkout.
stack_dir() {
  if [ -n "${LITINKAI_STACK_DIR:-}" ]; then
    realpath -m "$LITINKAI_STACK_DIR"
  elif [ "$(id -u)" -ne 0 ] || traversable_by_others "$PROJECT_ROOT"; then
    printf '%s' "$PROJECT_ROOT/.stack"
  else
    printf '/var/lib/postgresql/litinkai/%s' "$(printf '%s' "$PROJECT_ROOT" | sha256sum | cut -c1-12)"
  fi
}

# Newest installed PostgreSQL major version (>= MIN_PG_MAJOR), or empty.
pg_major() {
  local v best=""
  for v in /usr/lib/postgresql/*/bin/postgres; do
    [ -x "$v" ] || continue
    v="${v#/usr/lib/postgresql/}"
    v="${v%%/*}"
    if [ "$v" -ge "$MIN_PG_MAJOR" ] && { [ -z "$best" ] || [ "$v" -gt "$best" ]; }; then best="$v"; fi
  done
  printf '%s' "$best"
}

pg_bin() {
  local major
  major="$(pg_major)"
  [ -n "$major" ] || die "PostgreSQL $MIN_PG_MAJOR+ is not installed: run 'npm run stack -- install' (needs root for apt-get)"
  printf '/usr/lib/postgresql/%s/bin' "$major"
}

# Postgres refuses to run as root: use the Debian 'postgres' account then.
service_user() {
  if [ "$(id -u)" -eq 0 ]; then printf 'postgres'; else id -un; fi
}

as_service_user() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u postgres -- "$@") # from /: the postgres account may not enter the checkout
  else
    "$@"
  fi
}

db_url() {
  printf 'postgresql://%s:%s@%s:%s/%s' "$DB_USER" "$DB_PASSWORD" "$DB_HOST" "$DB_PORT" "$DB_NAME"
}

# The local cluster's superuser, for what only it may do (bootstrap, drop/create database, settings).
admin_url() {
  printf 'postgresql://%s:%s@%s:%s/%s' "$DB_ADMIN" "$DB_PASSWORD" "$DB_HOST" "$DB_PORT" "${1:-$DB_NAME}"
}

# psql against the local stack (or DB_URL when set), quiet, stopping on the first error.
run_psql() {
  PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" psql "${DB_URL:-$(db_url)}" -X -q -v ON_ERROR_STOP=1 "$@"
}

# The Supabase CLI binary from its npm platform package (published here for linux-x64 only).
SUPABASE_BIN="${SUPABASE_CLI_BINARY:-$PROJECT_ROOT/node_modules/@supabase/cli-linux-x64/bin/supabase}"

supabase_cli() {
  [ -x "$SUPABASE_BIN" ] || die "Supabase CLI not found at $SUPABASE_BIN: run 'npm ci' (linux-x64), or set SUPABASE_CLI_BINARY to a supabase binary"
  "$SUPABASE_BIN" --workdir "$PROJECT_ROOT" "$@"
}

deno_cli() {
  "$PROJECT_ROOT/node_modules/.bin/deno" "$@"
}

ensure_node_modules() {
  if [ ! -x "$SUPABASE_BIN" ] || [ ! -x "$PROJECT_ROOT/node_modules/.bin/deno" ]; then
    step "Installing npm dev tools (deno, supabase CLI)"
    (cd "$PROJECT_ROOT" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed: check network access to the npm registry"
  fi
}

#!/usr/bin/env bash
# The local Supabase-like database: npm run stack -- up|down|reset|status|install
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

STACK_DIR="$(stack_dir)"
PGDATA_DIR="$STACK_DIR/pgdata"
SOCKET_DIR="$STACK_DIR/run"
LOG_FILE="$STACK_DIR/postgres.log"
# Written by init_cluster: the cluster's bootstrap superuser. Older clusters (superuser postgres) lack it.
ADMIN_MARKER="$PGDATA_DIR/litinkai_superuser"

cluster_running() {
  [ -f "$PGDATA_DIR/postmaster.pid" ] && as_service_user "$(pg_bin)/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1
}

port_in_use() {
  (exec 3<>"/dev/tcp/$DB_HOST/$DB_PORT") 2>/dev/null
}

init_cluster() {
  step "Creating the local cluster in $PGDATA_DIR"
  mkdir -p "$STACK_DIR"
  if [ "$(id -u)" -eq 0 ]; then
    chown "$(service_user)" "$STACK_DIR"
    runuser -u postgres -- test -w "$STACK_DIR" ||
      die "the postgres account cannot write $STACK_DIR: make its parent folders traversable or set LITINKAI_STACK_DIR"
  fi
  local pwfile
  pwfile="$(mktemp)"
  printf '%s\n' "$DB_PASSWORD" >"$pwfile"
  chmod 644 "$pwfile"
  as_service_user "$(pg_bin)/initdb" -D "$PGDATA_DIR" -U "$DB_ADMIN" --pwfile="$pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$STACK_DIR/initdb.log" 2>&1 ||
    { rm -f "$pwfile"; die "initdb failed (log: $STACK_DIR/initdb.log)"; }
  rm -f "$pwfile"
  printf '%s\n' "$DB_ADMIN" | as_service_user tee "$ADMIN_MARKER" >/dev/null
  as_service_user mkdir -p "$SOCKET_DIR"
  as_service_user tee -a "$PGDATA_DIR/postgresql.conf" >/dev/null <<CONF

# Local stack settings, as on Supabase
listen_addresses = '$DB_HOST'
port = $DB_PORT
unix_socket_directories = '$SOCKET_DIR'
shared_preload_libraries = 'pg_cron,pg_stat_statements'
cron.database_name = '$DB_NAME'
# pg_cron runs jobs in background workers, not over a TCP connection that would need a password
cron.use_background_workers = on
max_worker_processes = 32
wal_level = logical
max_connections = 200
shared_buffers = 512MB
maintenance_work_mem = 512MB
CONF
}

# A cluster made before the hosted-like setup has postgres as its superuser, which PostgreSQL cannot
# demote: stop it and make a new one (its local data goes; the migrations and seed rebuild it).
recreate_old_cluster() {
  [ -f "$PGDATA_DIR/PG_VERSION" ] || return 0
  [ "$(cat "$ADMIN_MARKER" 2>/dev/null)" = "$DB_ADMIN" ] && return 0
  step "Recreating the local cluster: it predates the hosted-like roles (superuser $DB_ADMIN, postgres not a superuser)"
  if cluster_running; then as_service_user "$(pg_bin)/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null; fi
  rm -rf "$PGDATA_DIR"
}

ensure_cluster() {
  recreate_old_cluster
  [ -f "$PGDATA_DIR/PG_VERSION" ] || init_cluster
  start_cluster
  ensure_cluster_settings
}

start_cluster() {
  if cluster_running; then
    info "PostgreSQL already running on $DB_HOST:$DB_PORT"
    return
  fi
  if port_in_use; then
    die "port $DB_PORT on $DB_HOST is taken by another process: stop it, or set DB_PORT to a free port"
  fi
  step "Starting PostgreSQL $(pg_major) on $DB_HOST:$DB_PORT"
  as_service_user "$(pg_bin)/pg_ctl" -D "$PGDATA_DIR" -l "$LOG_FILE" -w -t 60 start >/dev/null ||
    die "PostgreSQL did not start: see $LOG_FILE"
}

# Clusters created before a setting was added get it now (a restart applies it).
ensure_cluster_settings() {
  local admin
  admin="$(admin_url template1)"
  if [ "$(psql "$admin" -X -At -c 'show cron.use_background_workers')" != "on" ]; then
    step "Letting pg_cron run its jobs in background workers (restarting PostgreSQL)"
    psql "$admin" -X -q -v ON_ERROR_STOP=1 -c "alter system set cron.use_background_workers = on" \
      -c "alter system set max_worker_processes = 32" >/dev/null
    as_service_user "$(pg_bin)/pg_ctl" -D "$PGDATA_DIR" -l "$LOG_FILE" -w -t 60 restart >/dev/null ||
      die "PostgreSQL did not restart: see $LOG_FILE"
  fi
}

# pg_cron's scheduler stops for good when its database is dropped (a reset does that), and one that
# started before the database had the pg_cron extension never sees the jobs scheduled after. So once
# the migrations have created it: restart PostgreSQL when the scheduler is missing, or always (`always`).
ensure_cron_scheduler() {
  local admin
  admin="$(admin_url template1)"
  if [ "${1:-}" = always ] ||
    [ "$(psql "$admin" -X -At -c "select count(*) from pg_stat_activity where backend_type = 'pg_cron launcher'")" = "0" ]; then
    step "Restarting PostgreSQL so that pg_cron's scheduler runs the jobs"
    as_service_user "$(pg_bin)/pg_ctl" -D "$PGDATA_DIR" -l "$LOG_FILE" -w -t 60 restart >/dev/null ||
      die "PostgreSQL did not restart: see $LOG_FILE"
  fi
}

# As the superuser, what hosted Supabase provides before any migration; everything after runs as postgres.
bootstrap() {
  step "Applying the Supabase bootstrap as $DB_ADMIN (roles, extensions, auth, storage, realtime publication)"
  PGOPTIONS="-c client_min_messages=warning" psql "$(admin_url)" -X -q -v ON_ERROR_STOP=1 \
    -f "$PROJECT_ROOT/scripts/sql/bootstrap.sql" >/dev/null
  psql "$(admin_url)" -X -q -v ON_ERROR_STOP=1 -v password="$DB_PASSWORD" >/dev/null <<'SQL'
alter role postgres password :'password';
SQL
}

push_migrations() {
  step "Applying migrations and seed with the Supabase CLI (db push)"
  local out
  if ! out="$(supabase_cli db push --remote="$(db_url)" --include-all --include-seed --yes 2>&1)"; then
    printf '%s\n' "$out" >&2
    die "supabase db push failed (output above)"
  fi
  printf '%s\n' "$out" | grep -E '^(Applying|Seeding|Remote database is up to date|Finished)' | sed 's/^/    /' || true
  if printf '%s\n' "$out" | grep -q '^Applying migration'; then MIGRATIONS_APPLIED=1; fi
}
MIGRATIONS_APPLIED=0

# Seed objects (badge icons) into the local Storage folder and storage.objects, as `supabase seed buckets` does.
seed_bucket_objects() {
  local dir="${LOCAL_STORAGE_DIR:-$PROJECT_ROOT/.stack/storage}/badges" file name
  mkdir -p "$dir"
  for file in "$PROJECT_ROOT"/supabase/seed/badges/*.svg; do
    name="$(basename "$file")"
    cp "$file" "$dir/$name"
    run_psql -c "insert into storage.objects (bucket_id, name, metadata) values ('badges', '$name',
      jsonb_build_object('mimetype', 'image/svg+xml', 'size', $(wc -c <"$file")))
      on conflict (bucket_id, name) do update set metadata = excluded.metadata" >/dev/null
  done
}

# The local EVM development chain (ganache, from npm, run by Node) that Polygon minting uses offline,
# with the badge contract deployed once. Its state lives beside the cluster's.
EVM_PORT="${EVM_PORT:-54345}"
EVM_DIR="$STACK_DIR/evm"
evm_running() {
  curl -s -m 2 -X POST -H 'content-type: application/json' \
    --data '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "http://127.0.0.1:$EVM_PORT" 2>/dev/null |
    grep -q result
}
start_chain() {
  if ! evm_running; then
    step "Starting the local EVM chain on 127.0.0.1:$EVM_PORT (ganache)"
    command -v node >/dev/null || die "node is needed for the local EVM chain"
    mkdir -p "$EVM_DIR/db"
    nohup node "$PROJECT_ROOT/node_modules/ganache/dist/node/cli.js" --server.host 127.0.0.1 --server.port "$EVM_PORT" \
      --wallet.deterministic --chain.chainId 1337 --database.dbPath "$EVM_DIR/db" --logging.quiet \
      >"$EVM_DIR/chain.log" 2>&1 &
    echo $! >"$EVM_DIR/pid"
    for _ in $(seq 1 60); do evm_running && break; sleep 0.5; done
    evm_running || die "the EVM chain did not start: see $EVM_DIR/chain.log"
  fi
  POLYGON_RPC_URL="http://127.0.0.1:$EVM_PORT" deno_cli run --allow-all "$PROJECT_ROOT/scripts/nft/deploy.ts"
}
stop_chain() {
  if [ -f "$EVM_DIR/pid" ] && kill "$(cat "$EVM_DIR/pid")" 2>/dev/null; then
    step "Stopping the local EVM chain"
    for _ in $(seq 1 20); do evm_running || break; sleep 0.25; done
  fi
  rm -f "$EVM_DIR/pid"
}

cmd_up() {
  bash "$PROJECT_ROOT/scripts/install.sh"
  ensure_node_modules
  ensure_cluster
  bootstrap
  push_migrations
  seed_bucket_objects
  start_chain
  if [ "$MIGRATIONS_APPLIED" = 1 ]; then ensure_cron_scheduler always; else ensure_cron_scheduler; fi
  info "ready: DB_URL=$(db_url)"
}

cmd_down() {
  stop_chain
  if cluster_running; then
    step "Stopping PostgreSQL"
    as_service_user "$(pg_bin)/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null
  else
    info "PostgreSQL is not running"
  fi
}

cmd_reset() {
  cmd_up_quiet_install
  step "Dropping and recreating database $DB_NAME"
  psql "$(admin_url template1)" -X -q -v ON_ERROR_STOP=1 \
    -c "drop database if exists $DB_NAME with (force)" -c "create database $DB_NAME" >/dev/null
  bootstrap
  push_migrations
  seed_bucket_objects
  stop_chain
  rm -rf "$EVM_DIR/db"
  start_chain
  ensure_cron_scheduler always
  info "ready: DB_URL=$(db_url)"
}

cmd_up_quiet_install() {
  bash "$PROJECT_ROOT/scripts/install.sh"
  ensure_node_modules
  ensure_cluster
}

cmd_status() {
  if cluster_running; then
    echo "status: running (PostgreSQL $(pg_major), data in $PGDATA_DIR)"
    echo "DB_URL=$(db_url)"
    run_psql -At -c "select 'extensions: ' || string_agg(extname || ' ' || extversion, ', ' order by extname) from pg_extension" || true
    run_psql -At -c "select 'migrations applied: ' || count(*) from supabase_migrations.schema_migrations" 2>/dev/null || true
  else
    echo "status: stopped"
    echo "DB_URL=$(db_url)"
    return 3
  fi
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  reset) cmd_reset ;;
  status) cmd_status ;;
  install) bash "$PROJECT_ROOT/scripts/install.sh" ;;
  *) die "usage: npm run stack -- up|down|reset|status|install" ;;
esac

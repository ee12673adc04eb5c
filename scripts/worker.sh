#!/usr/bin/env bash
# npm run worker -- [--group media|books]... [queue]...: the worker service against the local stack
# (or SUPABASE_DB_URL), in the foreground. Ctrl-C drains it.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
ensure_node_modules
export SUPABASE_DB_URL="${SUPABASE_DB_URL:-$(db_url)}"
export SUPABASE_URL="${SUPABASE_URL:-http://127.0.0.1:54321}"
export LOCAL_STORAGE_DIR="${LOCAL_STORAGE_DIR:-$PROJECT_ROOT/.stack/storage}"
step "Worker service ($*) against ${SUPABASE_DB_URL%%:*}://...@${SUPABASE_DB_URL##*@}"
exec "$PROJECT_ROOT/node_modules/.bin/deno" run --allow-net --allow-env --allow-read --allow-write \
  --allow-run=ffmpeg,ffprobe,espeak-ng --allow-sys "$PROJECT_ROOT/worker/main.ts" "$@"

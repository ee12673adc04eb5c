#!/usr/bin/env bash
# npm start: the local stack, then every Edge Function and the worker schedule in the foreground.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
bash "$PROJECT_ROOT/scripts/stack.sh" up
step "Serving Edge Functions (Ctrl-C to stop)"
export SUPABASE_DB_URL="${DB_URL:-$(db_url)}"
exec "$PROJECT_ROOT/node_modules/.bin/deno" run --allow-all "$PROJECT_ROOT/scripts/functions/runner.ts"

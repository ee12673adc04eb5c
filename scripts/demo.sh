#!/usr/bin/env bash
# npm run demo [chapter]: the stack, then the sample book's chapter through the whole pipeline.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
bash "$PROJECT_ROOT/scripts/stack.sh" up
export SUPABASE_DB_URL="${DB_URL:-$(db_url)}"
exec "$PROJECT_ROOT/node_modules/.bin/deno" run --allow-all "$PROJECT_ROOT/scripts/demo/demo.ts" "$@"

#!/usr/bin/env bash
# npm run bench: benchmarks against the local stack (figures, not tests).
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
bash "$PROJECT_ROOT/scripts/stack.sh" up
export SUPABASE_DB_URL="${DB_URL:-$(db_url)}"
for bench in "$PROJECT_ROOT"/scripts/bench/*.ts; do
  step "Benchmark: $(basename "$bench" .ts)"
  "$PROJECT_ROOT/node_modules/.bin/deno" run --allow-all "$bench"
done

#!/usr/bin/env bash
# npm run bench: benchmarks against the local stack (figures, not tests). `npm run bench:tenants`
# runs the multi-tenant search benchmark instead (scripts/bench/tenants/, minutes of loading);
# `npm run bench -- <name>` runs one of scripts/bench/<name>.ts (e.g. scaleout).
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
bash "$PROJECT_ROOT/scripts/stack.sh" up
export SUPABASE_DB_URL="${DB_URL:-$(db_url)}"
# The pgflow comparison bootstraps a scratch database, which only the local superuser may do.
[ -n "${DB_URL:-}" ] || export LOCAL_ADMIN_DB_URL="$(admin_url)"
dir="$PROJECT_ROOT/scripts/bench"
benches=("$dir"/*.ts)
if [ "${1:-}" = tenants ]; then
  benches=("$PROJECT_ROOT/scripts/bench/tenants"/*.ts)
elif [ -n "${1:-}" ]; then
  [ -f "$dir/$1.ts" ] || die "no benchmark scripts/bench/$1.ts"
  benches=("$dir/$1.ts")
fi
for bench in "${benches[@]}"; do
  step "Benchmark: $(basename "$bench" .ts)"
  "$PROJECT_ROOT/node_modules/.bin/deno" run --allow-all "$bench"
done

#!/usr/bin/env bash
# npm run types: database types for the functions, from the live schema.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
out="$PROJECT_ROOT/supabase/functions/_shared/database.types.ts"
[ -n "${DB_URL:-}" ] || bash "$PROJECT_ROOT/scripts/stack.sh" up
step "Generating TypeScript types into ${out#"$PROJECT_ROOT"/}"
supabase_cli gen types --lang typescript --schema public --remote="${DB_URL:-$(db_url)}" 2>/dev/null >"$out.tmp" ||
  { rm -f "$out.tmp"; die "supabase gen types failed"; }
mv "$out.tmp" "$out"
deno_cli fmt --quiet "$out"
info "$(wc -l <"$out") lines"

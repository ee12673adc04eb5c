#!/usr/bin/env bash
# npm run types: database types for the functions, from the live schema. `--check` only compares
# them with the committed file (npm test does), failing when the schema and the types drifted apart.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
out="$PROJECT_ROOT/supabase/functions/_shared/database.types.ts"
fresh="$out.generated.ts"
trap 'rm -f "$fresh"' EXIT
[ -n "${DB_URL:-}" ] || bash "$PROJECT_ROOT/scripts/stack.sh" up
[ "${1:-}" = --check ] || step "Generating TypeScript types into ${out#"$PROJECT_ROOT"/}"
remote="${DB_URL:-$(db_url)}"
# The local stack has no TLS: said so, the CLI does not print its plain-connection warning into the types.
case "$remote" in
  *sslmode=*) ;;
  *@127.0.0.1:* | *@localhost:*) [[ "$remote" == *\?* ]] && remote="$remote&sslmode=disable" || remote="$remote?sslmode=disable" ;;
esac
supabase_cli gen types --lang typescript --schema public --remote="$remote" 2>/dev/null >"$fresh" ||
  die "supabase gen types failed"
deno_cli fmt --quiet "$fresh"
if [ "${1:-}" = --check ]; then
  if ! diff -q "$out" "$fresh" >/dev/null; then
    diff -u "$out" "$fresh" | head -40 || true
    die "${out#"$PROJECT_ROOT"/} does not match the schema: run 'npm run types' and commit it"
  fi
  exit 0
fi
mv "$fresh" "$out"
info "$(wc -l <"$out") lines"

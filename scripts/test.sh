#!/usr/bin/env bash
# npm test: fresh database, then pgTAP, Deno tests and the Supabase advisors, with one summary.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT

if [ -n "${DB_URL:-}" ]; then
  step "Testing the database at DB_URL (no local stack)"
  ensure_node_modules
  psql "$DB_URL" -X -q -c 'select 1' >/dev/null 2>"$results/connect.err" ||
    die "cannot connect to DB_URL: $(head -1 "$results/connect.err" | sed 's/^psql: error: //')"
  url="$DB_URL"
else
  bash "$PROJECT_ROOT/scripts/stack.sh" reset
  url="$(db_url)"
  # Only the local stack's own test (applying the bootstrap again) connects as the superuser.
  export LOCAL_ADMIN_DB_URL="$(admin_url)"
fi

status=0

step "Style: deno fmt --check, deno lint, deno check, generated types match the schema"
if deno_cli fmt --check --quiet >"$results/style.txt" 2>&1 && deno_cli lint --quiet >>"$results/style.txt" 2>&1 &&
  deno_cli check --quiet supabase/functions scripts worker deploy >>"$results/style.txt" 2>&1 &&
  DB_URL="$url" bash "$PROJECT_ROOT/scripts/types.sh" --check >>"$results/style.txt" 2>&1; then
  style_status=0
else
  sed 's/\x1b\[[0-9;]*m//g' "$results/style.txt" | tail -30
  style_status=1
  status=1
fi

step "pgTAP: pg_prove over supabase/tests"
export PGOPTIONS="-c client_min_messages=warning"
# dblink_conninfo: how tests open a second session (a non-superuser's dblink must send a password).
if pg_prove --dbname "$url" --set dblink_conninfo="$url" --ext .sql --failures --comments \
  "$PROJECT_ROOT"/supabase/tests/*.test.sql | tee "$results/pgtap.txt"; then
  pgtap_status=0
else
  pgtap_status=1
  status=1
fi
pgtap_total="$(sed -n 's/^Files=[0-9]*, Tests=\([0-9]*\),.*/\1/p' "$results/pgtap.txt")"
pgtap_failed="$(sed -n 's/^ *Failed tests: *//p' "$results/pgtap.txt" | tr ',' '\n' | awk -F- 'NF==2{n+=$2-$1+1;next} NF==1&&$1!=""{n++} END{print n+0}')"
[ "$pgtap_status" -ne 0 ] && [ "$pgtap_failed" -eq 0 ] && pgtap_failed=1

step "Deno: deno test"
if SUPABASE_DB_URL="$url" SUPABASE_URL="${SUPABASE_URL:-http://127.0.0.1:54321}" deno_cli test --allow-all --quiet 2>&1 | tee "$results/deno.txt"; then
  deno_status=0
else
  deno_status=1
  status=1
fi
deno_passed="$(sed 's/\x1b\[[0-9;]*m//g' "$results/deno.txt" | sed -n 's/.*| \([0-9]*\) passed.*/\1/p' | tail -1)"
deno_failed="$(sed 's/\x1b\[[0-9;]*m//g' "$results/deno.txt" | sed -n 's/.*| \([0-9]*\) failed.*/\1/p' | tail -1)"
deno_passed="${deno_passed:-0}"
deno_failed="${deno_failed:-0}"
[ "$deno_status" -ne 0 ] && [ "$deno_failed" -eq 0 ] && deno_failed=1

step "Supabase advisors: db advisors --fail-on warn"
if supabase_cli db advisors --remote="$url" --fail-on warn >"$results/advisors.txt" 2>&1; then
  advisors_status=0
else
  advisors_status=1
  status=1
fi
node "$PROJECT_ROOT/scripts/lib/format-advisors.mjs" <"$results/advisors.txt"

pgtap_total="${pgtap_total:-0}"
passed=$((pgtap_total - pgtap_failed + deno_passed + (advisors_status == 0 ? 1 : 0) + (style_status == 0 ? 1 : 0)))
failed=$((pgtap_failed + deno_failed + advisors_status + style_status))
echo
echo "Summary"
printf '  pgTAP     %s assertions, %s failed\n' "$pgtap_total" "$pgtap_failed"
printf '  Deno      %s passed, %s failed\n' "$deno_passed" "$deno_failed"
printf '  style     %s\n' "$([ "$style_status" -eq 0 ] && echo 'fmt, lint, type check clean; generated types match' || echo 'problems found (above)')"
printf '  advisors  %s\n' "$([ "$advisors_status" -eq 0 ] && echo 'no warnings' || echo 'warnings or errors found (above)')"
echo "$passed passed, $failed failed"
exit "$status"

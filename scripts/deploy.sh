#!/usr/bin/env bash
# npm run deploy [-- --check]: hosted Supabase (migrations, the Edge-placed functions, their secrets,
# the Vault secrets pg_cron uses), then what to do for the worker service. --check validates the
# configuration and the repository without contacting anything. See docs/deploying.md.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

case "${1:-}" in
  --check) check_only=1 ;;
  "") check_only=0 ;;
  *) die "usage: npm run deploy [-- --check]" ;;
esac

DEPLOY_ROOT="${DEPLOY_ROOT:-$PROJECT_ROOT}"
FUNCTIONS_ENV_FILE="${FUNCTIONS_ENV_FILE:-$PROJECT_ROOT/supabase/.env.production}"

# name|what it is for
REQUIRED_VARIABLES=(
  "SUPABASE_ACCESS_TOKEN|a personal access token: the Supabase CLI's link, functions deploy and secrets set"
  "SUPABASE_PROJECT_REF|the hosted project's reference id (20 letters, from its URL)"
  "SUPABASE_DB_PASSWORD|the project's database password: link, db push and the Vault SQL"
  "SUPABASE_SERVICE_ROLE_KEY|stored in Vault as service_role_key: pg_cron calls the Edge queue workers with it"
)
# Edge Functions' secrets the deployed functions cannot run without.
REQUIRED_FUNCTION_SECRETS=(
  "STRIPE_SECRET_KEY|billing-checkout and billing-portal"
  "STRIPE_WEBHOOK_SECRET|stripe-webhook's signature check"
)
# Deployed without JWT verification (the caller sends no Supabase token).
NO_VERIFY_JWT=(stripe-webhook)

plan() { deno_cli run --quiet --allow-read --allow-env "$PROJECT_ROOT/scripts/deploy/plan.ts" "$@"; }

problems=0
problem() {
  printf 'problem: %s\n' "$*"
  problems=$((problems + 1))
}

step "Checking the configuration"
for entry in "${REQUIRED_VARIABLES[@]}"; do
  name="${entry%%|*}"
  if [ -z "${!name:-}" ]; then problem "missing $name: ${entry#*|}"; fi
done
if [ -n "${SUPABASE_PROJECT_REF:-}" ] && ! [[ "$SUPABASE_PROJECT_REF" =~ ^[a-z]{20}$ ]]; then
  problem "SUPABASE_PROJECT_REF must be the project's 20-letter reference id"
fi
if [ ! -f "$FUNCTIONS_ENV_FILE" ]; then
  problem "missing FUNCTIONS_ENV_FILE ($FUNCTIONS_ENV_FILE): the Edge Functions' secrets, NAME=VALUE lines"
else
  for entry in "${REQUIRED_FUNCTION_SECRETS[@]}"; do
    name="${entry%%|*}"
    grep -Eq "^[[:space:]]*(export[[:space:]]+)?$name=[\"']?[^\"'[:space:]]" "$FUNCTIONS_ENV_FILE" ||
      problem "missing $name in $FUNCTIONS_ENV_FILE: ${entry#*|}"
  done
  while read -r reserved; do
    problem "$reserved in $FUNCTIONS_ENV_FILE: hosted Supabase sets SUPABASE_* itself; remove it"
  done < <(sed -n -E 's/^[[:space:]]*(export[[:space:]]+)?(SUPABASE_[A-Za-z0-9_]*)=.*/\2/p' "$FUNCTIONS_ENV_FILE")
fi
if [ -x "$SUPABASE_BIN" ]; then
  info "Supabase CLI: $SUPABASE_BIN"
else
  problem "Supabase CLI not found at $SUPABASE_BIN: run 'npm ci' (linux-x64), or set SUPABASE_CLI_BINARY"
fi
[ -x "$PROJECT_ROOT/node_modules/.bin/deno" ] || die "deno not found: run 'npm ci'"

step "Checking function folders and deploy/k8s against placement.ts"
while IFS= read -r line; do [ -n "$line" ] && problem "$line"; done < <(DEPLOY_ROOT="$DEPLOY_ROOT" plan check || true)

if [ -f "$FUNCTIONS_ENV_FILE" ]; then
  mapfile -t edge < <(plan edge "$FUNCTIONS_ENV_FILE")
  mapfile -t edge_workers < <(plan edge-workers "$FUNCTIONS_ENV_FILE")
  [ "${#edge[@]}" -gt 0 ] || problem "placement.ts places no function on Edge"
  step "Edge Functions to deploy (${#edge[@]})"
  info "${edge[*]}"
  step "Worker service (deploy/k8s)"
  while IFS= read -r line; do info "$line"; done < <(plan workers "$FUNCTIONS_ENV_FILE")
  if ! grep -Eq '^[[:space:]]*(export[[:space:]]+)?MODELSLAB_API_KEY=["'"'"']?[^"'"'"'[:space:]]' "$FUNCTIONS_ENV_FILE"; then
    info "MODELSLAB_API_KEY is not in $FUNCTIONS_ENV_FILE: pipeline-images runs in the media workers (offline renderer), not on Edge"
  fi
fi

if [ "$problems" -gt 0 ]; then
  die "$problems problem(s) above; nothing was deployed"
fi
if [ "$check_only" -eq 1 ]; then
  step "Configuration complete: npm run deploy would deploy the above"
  exit 0
fi

export SUPABASE_DB_PASSWORD SUPABASE_ACCESS_TOKEN
project_url="${SUPABASE_URL:-https://$SUPABASE_PROJECT_REF.supabase.co}"

step "Linking project $SUPABASE_PROJECT_REF"
supabase_cli link --project-ref "$SUPABASE_PROJECT_REF" --yes

step "Pushing migrations"
supabase_cli db push --remote --yes

step "Deploying ${#edge[@]} Edge Functions"
for name in "${edge[@]}"; do
  flags=()
  for open in "${NO_VERIFY_JWT[@]}"; do [ "$name" = "$open" ] && flags+=(--no-verify-jwt); done
  info "$name"
  supabase_cli functions deploy "$name" --use-api --import-map "$PROJECT_ROOT/deno.json" "${flags[@]}" --yes
done

step "Setting the Edge Functions' secrets from $FUNCTIONS_ENV_FILE (values not shown)"
supabase_cli secrets set --env-file "$FUNCTIONS_ENV_FILE" --yes >/dev/null

step "Setting Vault secrets project_url and service_role_key; pg_cron invokes ${#edge_workers[@]} Edge queue workers"
sql_quote() { printf "'%s'" "${1//\'/\'\'}"; }
sql_array() {
  local out="" name
  for name in "$@"; do out+="${out:+, }$(sql_quote "$name")"; done
  printf 'array[%s]::text[]' "$out"
}
sql_file="$(mktemp)"
trap 'rm -f "$sql_file"' EXIT
chmod 600 "$sql_file"
cat >"$sql_file" <<SQL
do \$deploy\$
declare
  wanted record;
begin
  for wanted in select * from (values ('project_url', $(sql_quote "$project_url")),
                                      ('service_role_key', $(sql_quote "$SUPABASE_SERVICE_ROLE_KEY"))) v(name, value) loop
    if exists (select 1 from vault.secrets s where s.name = wanted.name) then
      perform vault.update_secret((select s.id from vault.secrets s where s.name = wanted.name), wanted.value);
    else
      perform vault.create_secret(wanted.value, wanted.name);
    end if;
  end loop;
end;
\$deploy\$;
-- pg_cron invokes exactly the queue workers placed on Edge; the worker service reads the others.
update private.edge_function_schedules
   set enabled = (function_name = any ($(sql_array "${edge_workers[@]}")))
 where enabled is distinct from (function_name = any ($(sql_array "${edge_workers[@]}")));
select private.schedule_edge_functions() as scheduled_jobs;
SQL
supabase_cli db query --remote --file "$sql_file" --yes

step "Hosted Supabase is deployed. Next, the worker service:"
info "1. Build and push the image (from the repository root):"
info "     docker build -f worker/Containerfile -t <registry>/litinkai-worker:<tag> . && docker push <registry>/litinkai-worker:<tag>"
info "2. Once: install KEDA, create the keda_scaler role (deploy/sql/keda_scaler_role.sql) and the Secrets"
info "     litinkai-worker and litinkai-keda-scaler (keys in deploy/k8s/secret.example.yaml)"
info "3. Point deploy/k8s at the image (an overlay or: cd deploy/k8s && kustomize edit set image litinkai-worker=<registry>/litinkai-worker:<tag>)"
info "4. kubectl apply -n <namespace> -k deploy/k8s"
info "See docs/deploying.md."

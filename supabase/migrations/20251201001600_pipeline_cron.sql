-- Hosted Supabase: pg_cron invokes each stage's Edge Function through pg_net on the schedule in
-- private.edge_function_schedules. Needs two Vault secrets, `project_url` and `service_role_key`
-- (see README). Where pg_net is absent (the local stack) nothing is scheduled: the local
-- function runner reads the same table instead.

create or replace function private.invoke_edge_function(function_name text)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  project_url text;
  service_key text;
  request_id bigint;
begin
  select decrypted_secret into project_url from vault.decrypted_secrets where name = 'project_url';
  select decrypted_secret into service_key from vault.decrypted_secrets where name = 'service_role_key';
  if project_url is null or service_key is null then
    raise warning 'vault secrets project_url and service_role_key are needed to invoke %', function_name;
    return null;
  end if;
  execute 'select net.http_post(url := $1, headers := $2, body := $3, timeout_milliseconds := 5000)'
    into request_id
    using project_url || '/functions/v1/' || function_name,
      pg_catalog.jsonb_build_object('Content-Type', 'application/json', 'Authorization', 'Bearer ' || service_key),
      '{"trigger": "cron"}'::jsonb;
  return request_id;
end;
$$;
revoke all on function private.invoke_edge_function(text) from public, anon, authenticated;

-- (Re)creates one cron job per enabled schedule; call again after changing the table.
create or replace function private.schedule_edge_functions()
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  schedule record;
  scheduled integer := 0;
begin
  if not exists (select 1 from pg_catalog.pg_extension where extname = 'pg_net')
     or pg_catalog.to_regclass('vault.decrypted_secrets') is null then
    return 0;
  end if;
  for schedule in select * from private.edge_function_schedules loop
    if exists (select 1 from cron.job where jobname = 'invoke-' || schedule.function_name) then
      perform cron.unschedule('invoke-' || schedule.function_name);
    end if;
    if schedule.enabled then
      perform cron.schedule('invoke-' || schedule.function_name, schedule.interval_seconds || ' seconds',
        format('select private.invoke_edge_function(%L)', schedule.function_name));
      scheduled := scheduled + 1;
    end if;
  end loop;
  return scheduled;
end;
$$;
revoke all on function private.schedule_edge_functions() from public, anon, authenticated;

select private.schedule_edge_functions();

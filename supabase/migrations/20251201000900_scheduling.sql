-- Scheduling: which queue workers are invoked and how often, their invocation through pg_cron and
-- pg_net on hosted Supabase, and the periodic jobs (rollups, billing periods, reaper, archive purge,
-- operator alerts).

-- Read by the local function runner and, on hosted Supabase, by the pg_cron jobs that call the
-- functions through pg_net.
create table private.edge_function_schedules (
  function_name text primary key,
  interval_seconds integer not null,
  enabled boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint edge_function_schedules_interval_positive check (interval_seconds between 1 and 59)
);
comment on table private.edge_function_schedules is 'Which Edge Functions are invoked periodically, and how often.';
create trigger edge_function_schedules_set_updated_at before update on private.edge_function_schedules
  for each row execute function private.set_updated_at();
alter table private.edge_function_schedules enable row level security;

-- The queue workers placed on Edge (supabase/functions/_shared/placement.ts); the worker service
-- consumes the other queues itself and is never invoked.
insert into private.edge_function_schedules (function_name, interval_seconds)
values ('pipeline-script', 2), ('pipeline-images', 2), ('plot', 2), ('mint', 2);

-- A worker says it is alive while it polls its queue (at most once a second), and where it runs:
-- 'edge' for an Edge Function invocation, 'worker:<host>:<pid>' for the worker service.
create table private.worker_heartbeats (
  function_name text primary key,
  beat_at timestamptz not null,
  instance text not null default 'edge',
  -- false once an Edge invocation has returned: the next one is due without waiting for the beat to age
  polling boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table private.worker_heartbeats is 'When each queue worker last polled: a live worker is not invoked again.';
create trigger worker_heartbeats_set_updated_at before update on private.worker_heartbeats
  for each row execute function private.set_updated_at();
alter table private.worker_heartbeats enable row level security;

-- Hosted Supabase: needs two Vault secrets, `project_url` and `service_role_key` (see README).
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
  -- A worker that polled in the last 15 seconds is still reading its queue: no second invocation.
  if exists (select 1 from private.worker_heartbeats h
             where h.function_name = invoke_edge_function.function_name
               and h.polling
               and h.beat_at > pg_catalog.now() - interval '15 seconds') then
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

-- Archived queue messages are kept 30 days for inspection, then deleted.
create or replace function private.purge_queue_archives(p_older_than interval default interval '30 days')
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  queue record;
  removed bigint;
  total bigint := 0;
begin
  for queue in select q.queue_name from pgmq.list_queues() q loop
    execute pg_catalog.format('delete from pgmq.%I where archived_at < pg_catalog.now() - $1', 'a_' || queue.queue_name)
      using p_older_than;
    get diagnostics removed = row_count;
    total := total + removed;
  end loop;
  return total;
end;
$$;
revoke all on function private.purge_queue_archives(interval) from public, anon, authenticated;
grant execute on function private.purge_queue_archives(interval) to service_role;

-- The periodic jobs (pg_cron is in the local stack and on hosted Supabase; skipped where it is absent).
do $$
begin
  if exists (select 1 from pg_catalog.pg_extension where extname = 'pg_cron') then
    perform cron.schedule('daily-rollups', '10 * * * *', 'select private.run_daily_rollups()');
    perform cron.schedule('billing-period-reset', '5 * * * *', 'select private.reset_billing_periods()');
    perform cron.schedule('reap-stuck-generations', '* * * * *',
      'select private.reap_stuck_generations(); select private.abandon_stale_reservations()');
    perform cron.schedule('purge-queue-archives', '30 3 * * *', 'select private.purge_queue_archives()');
    perform cron.schedule('purge-rate-limit-windows', '40 * * * *', 'select private.purge_rate_limit_windows()');
    perform cron.schedule('purge-cost-reservations', '50 3 * * *', 'select private.purge_cost_reservations()');
    perform cron.schedule('library-search-indexes', '*/10 * * * *', 'select private.queue_library_index_work()');
    perform cron.schedule('operator-alerts', '* * * * *', 'select private.check_operator_alerts()');
  end if;
end;
$$;

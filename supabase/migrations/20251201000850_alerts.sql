-- Operator alerts: the system's health as rows superadmins query and watch through Realtime. A pg_cron
-- job (scheduled in the scheduling migration) holds failure rates, spend, queue ages, worker
-- heartbeats and provider errors to thresholds superadmins edit; one alert stays open per kind and
-- subject, is resolved when its condition clears (the row is kept) and is acknowledged by a superadmin.
create type public.operator_alert_kind as enum ('stage_failure_rate', 'model_failure_rate', 'provider_errors',
  'user_daily_cost', 'system_daily_cost', 'queue_backlog', 'worker_silent', 'abandoned_reservations');
create type public.operator_alert_status as enum ('open', 'resolved');

create table public.operator_alert_settings (
  id uuid primary key default gen_random_uuid(),
  kind public.operator_alert_kind not null,
  enabled boolean not null default true,
  -- An alert is raised when its figure reaches this: a share of attempts (0 to 1), dollars, seconds or a count.
  threshold numeric not null,
  -- How far back the kind looks; null for the kinds that look at the present (queue ages, heartbeats).
  window_minutes integer,
  -- A failure rate is judged over at least this many attempts.
  min_events integer not null default 0,
  description text not null,
  updated_by uuid references public.profiles (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint operator_alert_settings_kind_key unique (kind),
  constraint operator_alert_settings_threshold_positive check (threshold > 0),
  constraint operator_alert_settings_rate_is_a_share check (
    kind not in ('stage_failure_rate', 'model_failure_rate') or threshold <= 1),
  constraint operator_alert_settings_window_fits_kind check (case when kind in ('queue_backlog', 'worker_silent')
    then window_minutes is null else window_minutes is not null and window_minutes between 1 and 10080 end),
  constraint operator_alert_settings_min_events_non_negative check (min_events >= 0)
);
comment on table public.operator_alert_settings is 'Thresholds of the operator alerts, one row per kind; superadmins edit them.';
create index operator_alert_settings_updated_by_idx on public.operator_alert_settings (updated_by);

insert into public.operator_alert_settings (kind, threshold, window_minutes, min_events, description) values
  ('stage_failure_rate', 0.2, 60, 10,
   'Share (0 to 1) of a pipeline stage''s attempts that failed in the window, over at least min_events attempts'),
  ('model_failure_rate', 0.2, 60, 10,
   'Share (0 to 1) of a model''s calls that failed in the window, over at least min_events calls'),
  ('provider_errors', 5, 15, 0, 'Errors a provider answered in the window (failed calls and stage errors naming it)'),
  ('user_daily_cost', 50, 1440, 0,
   'Dollars one user spent in the window: logged usage plus calls under way or unanswered'),
  ('system_daily_cost', 500, 1440, 0, 'Dollars all users spent in the window, counted the same way'),
  ('queue_backlog', 900, null, 0, 'Seconds the oldest message of a queue has waited'),
  ('worker_silent', 360, null, 0,
   'Seconds since a worker last polled (longer than a unit''s time limit: a worker busy with long units does not poll)'),
  ('abandoned_reservations', 1, 1440, 0,
   'Paid calls in the window whose worker stopped before the answer came (the provider may have billed them)');

create table public.operator_alerts (
  id uuid primary key default gen_random_uuid(),
  kind public.operator_alert_kind not null,
  -- What it is about: a stage, a model, a provider, a queue, a worker, a user's id, or 'system'.
  subject text not null,
  -- The user a cost alert is about.
  user_id uuid references public.profiles (id) on delete cascade,
  status public.operator_alert_status not null default 'open',
  message text not null,
  -- The figure at the last check (null when there is none: a worker never seen) and its threshold.
  value numeric,
  threshold numeric not null,
  -- The figures behind the message (counts, window, the last error, ...).
  details jsonb not null default '{}',
  first_seen_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  resolved_at timestamptz,
  acknowledged_at timestamptz,
  acknowledged_by uuid references public.profiles (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint operator_alerts_resolved_has_time check ((status = 'resolved') = (resolved_at is not null)),
  constraint operator_alerts_acknowledger_has_time check (acknowledged_by is null or acknowledged_at is not null),
  constraint operator_alerts_seen_in_order check (last_seen_at >= first_seen_at)
);
comment on table public.operator_alerts is 'Operator alerts raised by the health check: open until their condition clears, then kept.';
-- No storm: one open alert per kind and subject; the check updates it instead of adding another.
create unique index operator_alerts_one_open_per_subject on public.operator_alerts (kind, subject) where status = 'open';
create index operator_alerts_first_seen_at_idx on public.operator_alerts (first_seen_at desc);
create index operator_alerts_user_id_idx on public.operator_alerts (user_id);
create index operator_alerts_acknowledged_by_idx on public.operator_alerts (acknowledged_by);

create trigger operator_alert_settings_set_updated_at before update on public.operator_alert_settings
  for each row execute function private.set_updated_at();
create trigger operator_alerts_set_updated_at before update on public.operator_alerts
  for each row execute function private.set_updated_at();

-- Who last edited a threshold.
create or replace function private.stamp_alert_settings_editor()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_by := (select auth.uid());
  return new;
end;
$$;
revoke all on function private.stamp_alert_settings_editor() from public, anon, authenticated;
create trigger operator_alert_settings_stamp_editor before update on public.operator_alert_settings
  for each row execute function private.stamp_alert_settings_editor();

alter table public.operator_alert_settings enable row level security;
alter table public.operator_alerts enable row level security;

-- Alerts are written by the check and acknowledged through acknowledge_operator_alert; superadmins
-- change only the thresholds of the settings.
revoke insert, update, delete on public.operator_alerts, public.operator_alert_settings from anon, authenticated;
grant update (enabled, threshold, window_minutes, min_events) on public.operator_alert_settings to authenticated;

create policy "superadmins read operator alerts" on public.operator_alerts
  for select to authenticated using ((select private.is_superadmin()));
create policy "superadmins read alert settings" on public.operator_alert_settings
  for select to authenticated using ((select private.is_superadmin()));
create policy "superadmins edit alert settings" on public.operator_alert_settings
  for update to authenticated
  using ((select private.is_superadmin())) with check ((select private.is_superadmin()));

-- Realtime: postgres_changes (RLS applies, so only superadmins receive rows), and the private
-- Broadcast topic `operator:alerts`, sent when an alert is raised, resolved or acknowledged (not on
-- each check that only sees it again). Only superadmins may join that topic.
alter publication supabase_realtime add table public.operator_alerts;

create or replace function private.broadcast_operator_alert()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform realtime.broadcast_changes('operator:alerts', tg_op, tg_op, tg_table_name, tg_table_schema, new, old);
  return null;
end;
$$;
revoke all on function private.broadcast_operator_alert() from public, anon, authenticated;
create trigger operator_alerts_broadcast after insert on public.operator_alerts
  for each row execute function private.broadcast_operator_alert();
create trigger operator_alerts_broadcast_changes after update on public.operator_alerts
  for each row
  when (old.status is distinct from new.status or old.acknowledged_at is distinct from new.acknowledged_at)
  execute function private.broadcast_operator_alert();

create policy "superadmins receive operator alerts" on realtime.messages
  for select to authenticated
  using (
    realtime.messages.extension = 'broadcast' and realtime.messages.topic = (select realtime.topic())
    and (select realtime.topic()) = 'operator:alerts' and (select private.is_superadmin())
  );

-- The checks -------------------------------------------------------------------------------------

-- A window in words: '15 minutes', '1 hour', '24 hours'.
create or replace function private.describe_window(p_minutes integer)
returns text
language sql
immutable
set search_path = ''
as $$
  select case when p_minutes % 60 = 0
    then (p_minutes / 60)::text || case when p_minutes = 60 then ' hour' else ' hours' end
    else p_minutes::text || case when p_minutes = 1 then ' minute' else ' minutes' end end
$$;

-- The queue a worker consumes, as placement.ts names them: pipeline-<step> reads <step>, the others
-- read the queue of their own name, hyphens written as underscores (delete-account: delete_account).
-- (placement_test.ts checks this against placement.ts.)
create or replace function private.worker_queue(p_function_name text)
returns text
language sql
immutable
set search_path = ''
as $$
  select case when p_function_name like 'pipeline-%' then pg_catalog.substr(p_function_name, 10)
    else pg_catalog.replace(p_function_name, '-', '_') end
$$;

-- The provider a failed attempt's error names: provider clients begin their errors with the
-- provider's name ("modelslab answered HTTP 503: ...") or the model's ("gpt-4o wrote no scenes").
-- Null for errors of our own (a corrupt input, a tool past its time limit).
create or replace function private.provider_of_error(p_error text)
returns text
language sql
stable
security definer
set search_path = ''
as $$
  select m.provider from private.model_prices m
  where m.provider <> 'offline' and (pg_catalog.starts_with(p_error, m.provider || ' ')
    or pg_catalog.starts_with(p_error, m.provider || ':') or pg_catalog.starts_with(p_error, m.model || ' '))
  order by m.provider limit 1
$$;

-- Failed pipeline attempts since a time, with their errors: the entries fail_step appends to a
-- generation's pipeline_metadata, found through the attempts whose reservations were released or
-- abandoned (a timeout, an answer our checks refused) then.
create or replace function private.recent_stage_errors(p_since timestamptz)
returns table (step public.pipeline_step, error text, failed_at timestamptz)
language sql
stable
security definer
set search_path = ''
as $$
  select f.step, x ->> 'error', (x ->> 'at')::timestamptz
  from (select distinct r.video_generation_id, r.step from private.cost_reservations r
        where r.updated_at >= p_since and r.status in ('released', 'abandoned') and r.video_generation_id is not null
          and r.step is not null) f
  join public.video_generations g on g.id = f.video_generation_id
  cross join lateral pg_catalog.jsonb_array_elements(
    coalesce(g.pipeline_metadata -> 'stages' -> f.step::text -> 'errors', '[]')) x
  where (x ->> 'at')::timestamptz >= p_since
$$;

-- Every condition that passes its threshold now, one row per kind and subject. The ledger of call
-- outcomes is private.cost_reservations: every paid call (each attempt of a pipeline unit, and other
-- paid work) is reserved before it is made and then settled (answered), released (refused by its
-- provider) or abandoned (no usable answer came: a timeout, a refused answer, a dead worker); the
-- last two are failed attempts. Failed calls logged as usage (usage_logs.success false) count too.
create or replace function private.operator_alert_conditions()
returns table (kind public.operator_alert_kind, subject text, user_id uuid, value numeric, threshold numeric,
  message text, details jsonb)
language plpgsql
stable
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  setting public.operator_alert_settings;
  since timestamptz;
  span text;
begin
  for setting in select * from public.operator_alert_settings s where s.enabled order by s.kind loop
    since := pg_catalog.now() - pg_catalog.make_interval(mins => coalesce(setting.window_minutes, 0));
    span := private.describe_window(coalesce(setting.window_minutes, 0));
    case setting.kind
    when 'stage_failure_rate' then
      return query
        with ended as (
          select r.step, pg_catalog.count(*) filter (where r.status <> 'settled') as failed, pg_catalog.count(*) as attempts
          from private.cost_reservations r
          where r.updated_at >= since and r.step is not null and r.status in ('settled', 'released', 'abandoned')
          group by r.step
        ), last_errors as (
          select distinct on (e.step) e.step, e.error from private.recent_stage_errors(since) e
          order by e.step, e.failed_at desc
        )
        select 'stage_failure_rate'::public.operator_alert_kind, e.step::text, null::uuid,
          pg_catalog.round(e.failed::numeric / e.attempts, 4), setting.threshold,
          pg_catalog.format('the %s stage: %s of %s attempts failed in the last %s (%s%%, threshold %s%%)%s', e.step,
            e.failed, e.attempts, span, pg_catalog.round(100.0 * e.failed / e.attempts), pg_catalog.round(100 * setting.threshold),
            coalesce('; last error: ' || pg_catalog.left(l.error, 300), '')),
          pg_catalog.jsonb_build_object('failed', e.failed, 'attempts', e.attempts, 'window_minutes', setting.window_minutes,
            'last_error', l.error)
        from ended e left join last_errors l on l.step = e.step
        where e.attempts >= greatest(setting.min_events, 1) and e.failed::numeric / e.attempts >= setting.threshold;
    when 'model_failure_rate' then
      return query
        with outcomes as (
          select r.model, r.status <> 'settled' as failed from private.cost_reservations r
          where r.updated_at >= since and r.status in ('settled', 'released', 'abandoned')
          union all
          select l.model_used, true from public.usage_logs l where l.created_at >= since and not l.success
        ), rates as (
          select o.model, pg_catalog.count(*) filter (where o.failed) as failed, pg_catalog.count(*) as calls
          from outcomes o group by o.model
        )
        select 'model_failure_rate'::public.operator_alert_kind, r.model, null::uuid,
          pg_catalog.round(r.failed::numeric / r.calls, 4), setting.threshold,
          pg_catalog.format('%s: %s of %s calls failed in the last %s (%s%%, threshold %s%%)', r.model, r.failed, r.calls,
            span, pg_catalog.round(100.0 * r.failed / r.calls), pg_catalog.round(100 * setting.threshold)),
          pg_catalog.jsonb_build_object('failed', r.failed, 'calls', r.calls, 'window_minutes', setting.window_minutes,
            'provider', (select m.provider from private.model_prices m where m.model = r.model))
        from rates r
        where r.calls >= greatest(setting.min_events, 1) and r.failed::numeric / r.calls >= setting.threshold;
    when 'provider_errors' then
      return query
        with errors as (
          select l.provider, coalesce(l.error_message, l.operation || ' failed') as error, l.created_at as failed_at
          from public.usage_logs l where l.created_at >= since and not l.success
          union all
          select private.provider_of_error(e.error), e.error, e.failed_at from private.recent_stage_errors(since) e
        ), per_provider as (
          select e.provider, pg_catalog.count(*) as errors, pg_catalog.max(e.failed_at) as last_at,
            (pg_catalog.array_agg(e.error order by e.failed_at desc))[1] as last_error
          from errors e where e.provider is not null and e.provider <> 'offline'
          group by e.provider
        )
        select 'provider_errors'::public.operator_alert_kind, p.provider, null::uuid, p.errors::numeric,
          setting.threshold,
          pg_catalog.format('%s answered %s errors in the last %s (threshold %s); the last: %s', p.provider, p.errors, span,
            setting.threshold, pg_catalog.left(p.last_error, 300)),
          pg_catalog.jsonb_build_object('errors', p.errors, 'window_minutes', setting.window_minutes,
            'last_error', p.last_error, 'last_at', p.last_at)
        from per_provider p where p.errors >= setting.threshold;
    when 'user_daily_cost', 'system_daily_cost' then
      return query
        with spend as (
          select l.user_id, l.cost_usd as usd, false as reserved from public.usage_logs l where l.created_at >= since
          union all
          -- (updated_at is never before created_at: the bound lets the scan use the index on it)
          select r.user_id, r.reserved_usd, true from private.cost_reservations r
          where r.updated_at >= since and r.created_at >= since and r.status in ('open', 'abandoned')
        ), totals as (
          select case when setting.kind = 'user_daily_cost' then s.user_id end as user_id,
            pg_catalog.sum(s.usd) as usd, coalesce(pg_catalog.sum(s.usd) filter (where s.reserved), 0) as reserved_usd
          from spend s
          group by 1
        )
        select setting.kind, coalesce(t.user_id::text, 'system'), t.user_id, pg_catalog.round(t.usd, 4),
          setting.threshold,
          pg_catalog.format('%s spent $%s in the last %s (threshold $%s; $%s of it reserved for calls under way or unanswered)',
            case when t.user_id is null then 'all users'
              else 'user ' || coalesce((select p.email from public.profiles p where p.id = t.user_id), t.user_id::text) end,
            pg_catalog.round(t.usd, 2), span, setting.threshold, pg_catalog.round(t.reserved_usd, 2)),
          pg_catalog.jsonb_build_object('spent_usd', t.usd, 'reserved_usd', t.reserved_usd,
            'window_minutes', setting.window_minutes)
        from totals t where t.usd >= setting.threshold;
    when 'queue_backlog' then
      return query
        select 'queue_backlog'::public.operator_alert_kind, q.queue_name, null::uuid, q.oldest_msg_age_sec::numeric,
          setting.threshold,
          pg_catalog.format('queue %s: its oldest message has waited %s s (threshold %s s); %s messages, %s of them visible',
            q.queue_name, q.oldest_msg_age_sec, setting.threshold, q.queue_length, q.queue_visible_length),
          pg_catalog.jsonb_build_object('oldest_age_seconds', q.oldest_msg_age_sec, 'messages', q.queue_length,
            'visible', q.queue_visible_length)
        from private.queue_depths() q where q.oldest_msg_age_sec >= setting.threshold;
    when 'worker_silent' then
      -- Watched: the workers pg_cron invokes (always polling), and a worker service's function while
      -- messages wait in its queue (the service scales to zero when its queues are empty).
      return query
        with waiting as (
          select q.queue_name, q.queue_visible_length from private.queue_depths() q where q.queue_visible_length > 0
        ), watched as (
          select s.function_name, true as scheduled from private.edge_function_schedules s where s.enabled
          union all
          select h.function_name, false from private.worker_heartbeats h
          join waiting w on w.queue_name = private.worker_queue(h.function_name)
        ), silent as (
          select w.function_name, pg_catalog.bool_or(w.scheduled) as scheduled, h.beat_at, h.instance,
            pg_catalog.round(extract(epoch from pg_catalog.now() - h.beat_at)) as age,
            (select q.queue_visible_length from waiting q where q.queue_name = private.worker_queue(w.function_name)) as waiting
          from watched w left join private.worker_heartbeats h on h.function_name = w.function_name
          group by w.function_name, h.beat_at, h.instance
        )
        select 'worker_silent'::public.operator_alert_kind, s.function_name, null::uuid, s.age, setting.threshold,
          case when s.beat_at is null then pg_catalog.format('worker %s has never polled', s.function_name)
            else pg_catalog.format('worker %s has not polled for %s s (threshold %s s)', s.function_name, s.age,
              setting.threshold) end
          || case when s.scheduled then ' although it is invoked on a schedule'
            else pg_catalog.format(' while %s messages wait in its queue', s.waiting) end,
          pg_catalog.jsonb_build_object('last_beat_at', s.beat_at, 'instance', s.instance, 'scheduled', s.scheduled,
            'queue', private.worker_queue(s.function_name), 'waiting', coalesce(s.waiting, 0))
        from silent s where s.beat_at is null or s.age >= setting.threshold;
    when 'abandoned_reservations' then
      return query
        with abandoned as (
          select r.model, pg_catalog.count(*) as calls, pg_catalog.sum(r.reserved_usd) as usd
          from private.cost_reservations r where r.updated_at >= since and r.status = 'abandoned'
          group by r.model
        )
        select 'abandoned_reservations'::public.operator_alert_kind, 'system', null::uuid,
          pg_catalog.sum(a.calls)::numeric, setting.threshold,
          pg_catalog.format('%s paid calls got no answer in the last %s ($%s reserved; %s): their worker stopped mid-call, so check the providers'' bills',
            pg_catalog.sum(a.calls), span, pg_catalog.round(pg_catalog.sum(a.usd), 4),
            pg_catalog.string_agg(a.model || ' ' || a.calls, ', ' order by a.calls desc, a.model)),
          pg_catalog.jsonb_build_object('calls', pg_catalog.sum(a.calls), 'reserved_usd', pg_catalog.sum(a.usd),
            'window_minutes', setting.window_minutes, 'models', pg_catalog.jsonb_object_agg(a.model, a.calls))
        from abandoned a
        having pg_catalog.sum(a.calls) >= setting.threshold;
    end case;
  end loop;
end;
$$;

-- The check pg_cron runs every minute: raises an alert for each new condition, updates the open one
-- of a condition seen again (last_seen_at, figures, message), and resolves open alerts whose
-- condition cleared (or whose kind was disabled). Returns how many it raised, saw again and resolved.
create or replace function private.check_operator_alerts()
returns table (raised integer, still_open integer, resolved integer)
language plpgsql
security definer
set search_path = ''
as $$
#variable_conflict use_column
begin
  -- One check at a time (the cron job and a call by hand).
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('private.check_operator_alerts'));
  return query
    with current_conditions as materialized (
      select * from private.operator_alert_conditions()
    ), upserted as (
      insert into public.operator_alerts as a (kind, subject, user_id, message, value, threshold, details,
        first_seen_at, last_seen_at)
      select c.kind, c.subject, c.user_id, c.message, c.value, c.threshold, c.details, pg_catalog.clock_timestamp(),
        pg_catalog.clock_timestamp()
      from current_conditions c
      on conflict (kind, subject) where status = 'open' do update
        set message = excluded.message, value = excluded.value, threshold = excluded.threshold,
            details = excluded.details, last_seen_at = excluded.last_seen_at
      returning a.xmax = 0 as inserted
    ), closed as (
      update public.operator_alerts a set status = 'resolved', resolved_at = pg_catalog.clock_timestamp()
      where a.status = 'open'
        and not exists (select 1 from current_conditions c where c.kind = a.kind and c.subject = a.subject)
      returning 1
    )
    select (select pg_catalog.count(*) from upserted u where u.inserted)::integer,
      (select pg_catalog.count(*) from upserted u where not u.inserted)::integer,
      (select pg_catalog.count(*) from closed)::integer;
end;
$$;

revoke all on function private.describe_window(integer), private.worker_queue(text), private.provider_of_error(text),
  private.recent_stage_errors(timestamptz), private.operator_alert_conditions(), private.check_operator_alerts()
  from public, anon, authenticated;
grant execute on function private.check_operator_alerts() to service_role;

-- Client RPC: a superadmin acknowledges an alert (the first acknowledgement is kept: who and when).
create or replace function public.acknowledge_operator_alert(alert_id uuid)
returns public.operator_alerts
language plpgsql
security definer
set search_path = ''
as $$
declare
  caller uuid := (select auth.uid());
  alert public.operator_alerts;
begin
  if caller is null or not private.is_superadmin() then
    raise exception 'only a superadmin can acknowledge operator alerts' using errcode = '42501';
  end if;
  update public.operator_alerts a set acknowledged_at = pg_catalog.clock_timestamp(), acknowledged_by = caller
  where a.id = acknowledge_operator_alert.alert_id and a.acknowledged_at is null
  returning * into alert;
  if not found then
    select * into alert from public.operator_alerts a where a.id = acknowledge_operator_alert.alert_id;
    if not found then
      raise exception 'no operator alert with id %', acknowledge_operator_alert.alert_id using errcode = 'P0002';
    end if;
  end if;
  return alert;
end;
$$;
comment on function public.acknowledge_operator_alert(uuid) is 'Superadmin RPC: acknowledge an operator alert (who and when).';
revoke all on function public.acknowledge_operator_alert(uuid) from public, anon;
grant execute on function public.acknowledge_operator_alert(uuid) to authenticated;

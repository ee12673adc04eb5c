-- One pgmq queue per pipeline stage, and the schedule on which each stage's worker runs.
select pgmq.create(q) from unnest(array['script', 'images', 'audio', 'video', 'lipsync', 'merge']) as q
where not exists (select 1 from pgmq.list_queues() l where l.queue_name = q);

-- Read by the local function runner and, on hosted Supabase, by the pg_cron jobs that call the
-- functions through pg_net (see the pipeline_cron migration).
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

insert into private.edge_function_schedules (function_name, interval_seconds) values
  ('pipeline-script', 2), ('pipeline-images', 2), ('pipeline-audio', 2),
  ('pipeline-video', 2), ('pipeline-lipsync', 2), ('pipeline-merge', 2);

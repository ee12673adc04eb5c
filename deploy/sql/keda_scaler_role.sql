-- The role KEDA's postgresql scaler logs in as: it can run pgmq.metrics_all() (which counts each
-- queue's table and reads its id sequence) and nothing else. Run as postgres after `db push`, and
-- again after adding a queue; then `alter role keda_scaler password '...'` (see docs/deploying.md).
do $$
begin
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'keda_scaler') then
    create role keda_scaler login noinherit;
  end if;
end;
$$;
alter role keda_scaler set statement_timeout = '5s';
grant usage on schema pgmq to keda_scaler;
grant select on pgmq.meta to keda_scaler;
grant execute on function pgmq.metrics_all() to keda_scaler;
grant execute on function pgmq.metrics(text) to keda_scaler;
do $$
declare
  queue record;
begin
  for queue in select q.queue_name from pgmq.list_queues() q loop
    execute pg_catalog.format('grant select on pgmq.%I to keda_scaler', 'q_' || queue.queue_name);
    execute pg_catalog.format('grant select on sequence pgmq.%I to keda_scaler', 'q_' || queue.queue_name || '_msg_id_seq');
  end loop;
end;
$$;

-- pgmq behaviour the pipeline depends on. Written against pgmq's documented API,
-- so it passes on the real extension and on the project's compatible one. The application needs
-- pgmq 1.4.4 or newer (older hosted projects run 1.4.4); where versions differ, a test says so.
\if :{?dblink_conninfo}
\else
\set dblink_conninfo ''
\endif
set tests.dblink_conninfo = :'dblink_conninfo';
begin;
create extension if not exists dblink with schema extensions;
select plan(49);

-- Before 1.5.1, pop and set_vt compare with now() (the transaction's start), not the clock.
create temp table pgmq_version as
  select extversion, string_to_array(extversion, '.')::integer[] >= array[1, 5, 1] as pop_uses_clock
  from pg_extension where extname = 'pgmq';
select ok((select string_to_array(extversion, '.')::integer[] >= array[1, 4, 4] from pgmq_version),
  'pgmq is 1.4.4 or newer, as the migrations require');

select has_function('pgmq', fn, 'pgmq.' || fn || ' exists')
from unnest(array['create', 'drop_queue', 'send', 'send_batch', 'read', 'read_with_poll', 'pop',
  'delete', 'archive', 'set_vt', 'purge_queue', 'metrics', 'list_queues']) as fn;

select pgmq.create('pgtap_basic');
select has_table('pgmq', 'q_pgtap_basic', 'create makes the queue table');
select has_table('pgmq', 'a_pgtap_basic', 'create makes the archive table');
select ok(exists (select 1 from pgmq.list_queues() where queue_name = 'pgtap_basic'), 'list_queues lists the queue');

-- send and read
create temp table sent as select pgmq.send('pgtap_basic', '{"n": 1}') as msg_id;
create temp table first_read as select * from pgmq.read('pgtap_basic', 1, 10);
select is((select count(*) from first_read), 1::bigint, 'read returns the visible message');
select is((select message from first_read), '{"n": 1}'::jsonb, 'read returns the payload sent');
select is((select read_ct from first_read), 1, 'first read sets read_ct to 1');
select is((select msg_id from first_read), (select msg_id from sent), 'read returns the id send returned');
select is((select count(*) from pgmq.read('pgtap_basic', 1, 10)), 0::bigint,
  'a read message is hidden during its visibility timeout');

-- delayed send, checked after the same pause
create temp table delayed as select pgmq.send('pgtap_basic', '{"n": 2}', 1) as msg_id;
select is((select count(*) from pgmq.read('pgtap_basic', 30, 10)), 0::bigint,
  'a message sent with a delay is not readable before the delay');
select pg_sleep(1.3);
create temp table second_read as select * from pgmq.read('pgtap_basic', 30, 10);
select is((select count(*) from second_read), 2::bigint,
  'after the timeout and the delay both messages are visible');
select is((select read_ct from second_read where msg_id = (select msg_id from sent)), 2,
  'a message that reappears has read_ct incremented');
select is((select read_ct from second_read where msg_id = (select msg_id from delayed)), 1,
  'the delayed message is read for the first time');

-- set_vt
select is((select count(*) from pgmq.set_vt('pgtap_basic', (select msg_id from sent), 0)), 1::bigint,
  'set_vt returns the message it changed');
select is((select array_agg(msg_id) from pgmq.read('pgtap_basic', 30, 10)), array[(select msg_id from sent)],
  'set_vt 0 makes a hidden message visible again');

-- delete and archive remove exactly one message
select pgmq.send_batch('pgtap_basic', array['{"n": 3}', '{"n": 4}', '{"n": 5}']::jsonb[]);
select is((select queue_length from pgmq.metrics('pgtap_basic')), 5::bigint, 'metrics counts five messages');
select ok(pgmq.delete('pgtap_basic', (select msg_id from sent)), 'delete returns true for an existing message');
select ok(not pgmq.delete('pgtap_basic', (select msg_id from sent)), 'delete returns false the second time');
select is((select queue_length from pgmq.metrics('pgtap_basic')), 4::bigint, 'delete removed exactly one message');
select ok(pgmq.archive('pgtap_basic', (select msg_id from delayed)), 'archive returns true');
select is((select queue_length from pgmq.metrics('pgtap_basic')), 3::bigint, 'archive removed exactly one message');
select is((select count(*) from pgmq.a_pgtap_basic), 1::bigint, 'archive stored exactly one message');
select is((select msg_id from pgmq.a_pgtap_basic), (select msg_id from delayed), 'the archived message keeps its id');

-- batch delete and archive, pop, purge
create temp table batch as select msg_id from pgmq.q_pgtap_basic order by msg_id;
select is((select count(*) from pgmq.archive('pgtap_basic', array[(select min(msg_id) from batch), -1])),
  1::bigint, 'archive of many returns only the ids it moved');
select is((select count(*) from pgmq.delete('pgtap_basic', array[(select max(msg_id) from batch), -1])),
  1::bigint, 'delete of many returns only the ids it removed');
-- pop: from 1.5.1 it returns a message sent earlier in this transaction; before, it compares with the
-- transaction's start and returns none of them (one more message is left for purge_queue to count).
create temp table popped as select * from pgmq.pop('pgtap_basic');
select is((select message from popped),
  case when (select pop_uses_clock from pgmq_version) then '{"n": 4}'::jsonb end,
  'pop returns the oldest visible message (1.5.1+; before 1.5.1 none sent in this transaction)');
select is((select queue_length from pgmq.metrics('pgtap_basic')),
  case when (select pop_uses_clock from pgmq_version) then 0 else 1 end::bigint,
  'pop removed it (1.5.1+; before 1.5.1 the message stays)');
select pgmq.send_batch('pgtap_basic', array['{"n": 6}', '{"n": 7}']::jsonb[]);
select is(pgmq.purge_queue('pgtap_basic'),
  case when (select pop_uses_clock from pgmq_version) then 2 else 3 end::bigint,
  'purge_queue returns the number of messages purged (2 from 1.5.1, 3 before: pop left one)');
select is((select total_messages from pgmq.metrics('pgtap_basic')), 7::bigint,
  'metrics counts every message ever sent');

-- read_with_poll waits at most max_poll_seconds on an empty queue
select is((select count(*) from pgmq.read_with_poll('pgtap_basic', 30, 1, 1, 100)), 0::bigint,
  'read_with_poll returns nothing from an empty queue after polling');
select pgmq.send_batch('pgtap_basic', array['{"n": 8}', '{"n": 9}', '{"n": 10}']::jsonb[]);
select is((select array_agg((message ->> 'n')::integer order by msg_id) from pgmq.read_with_poll('pgtap_basic', 30, 5, 1, 100)),
  array[8, 9, 10], 'read_with_poll returns every visible message up to qty at once');

select ok(pgmq.drop_queue('pgtap_basic'), 'drop_queue returns true');
select hasnt_table('pgmq', 'q_pgtap_basic', 'drop_queue removes the queue table');

-- Two sessions read concurrently: the second skips rows the first has locked.
create function pg_temp.concurrent_reads(conninfo text)
returns table (read_by_a bigint, read_by_b bigint, read_by_both bigint)
language plpgsql
as $$
begin
  perform extensions.dblink_connect('reader_a', conninfo);
  perform extensions.dblink_connect('reader_b', conninfo);
  perform * from extensions.dblink('reader_a', $q$select pgmq.create('pgtap_concurrent')::text$q$) as t(done text);
  perform * from extensions.dblink('reader_a',
    $q$select pgmq.send_batch('pgtap_concurrent', array['{"i":1}','{"i":2}','{"i":3}','{"i":4}','{"i":5}','{"i":6}']::jsonb[])$q$
  ) as t(msg_id bigint);
  perform extensions.dblink_exec('reader_a', 'begin');
  create temp table read_by_a as
    select * from extensions.dblink('reader_a', $q$select msg_id from pgmq.read('pgtap_concurrent', 30, 3)$q$) as t(msg_id bigint);
  create temp table read_by_b as
    select * from extensions.dblink('reader_b', $q$select msg_id from pgmq.read('pgtap_concurrent', 30, 6)$q$) as t(msg_id bigint);
  perform extensions.dblink_exec('reader_a', 'commit');
  perform * from extensions.dblink('reader_a', $q$select pgmq.drop_queue('pgtap_concurrent')$q$) as t(dropped boolean);
  perform extensions.dblink_disconnect('reader_a');
  perform extensions.dblink_disconnect('reader_b');
  return query select (select count(*) from read_by_a), (select count(*) from read_by_b),
    (select count(*) from read_by_a join read_by_b using (msg_id));
end;
$$;
create temp table concurrent as
  select r.* from (select tests.dblink_conninfo() as conninfo) s
  cross join lateral pg_temp.concurrent_reads(s.conninfo) r where s.conninfo is not null;
select case when tests.dblink_conninfo() is null
  then skip('no dblink connection: a non-superuser needs the database URL with its password (pg_prove --set dblink_conninfo=<url>)', 3)
  else concat_ws(E'\n',
    is((select read_by_a from concurrent), 3::bigint, 'reader A gets the three messages it asked for'),
    is((select read_by_b from concurrent), 3::bigint, 'reader B gets only the three messages A does not hold'),
    is((select read_by_both from concurrent), 0::bigint, 'concurrent readers never get the same message'))
  end;

select * from finish();
rollback;

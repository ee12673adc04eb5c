-- pgmq behaviour the pipeline depends on. Written against pgmq's documented API,
-- so it passes on the real extension and on the project's compatible one.
begin;
create extension if not exists dblink with schema extensions;
select plan(48);

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
create temp table popped as select * from pgmq.pop('pgtap_basic');
select is((select message from popped), '{"n": 4}'::jsonb, 'pop returns the oldest visible message');
select is((select queue_length from pgmq.metrics('pgtap_basic')), 0::bigint, 'pop removed it');
select pgmq.send_batch('pgtap_basic', array['{"n": 6}', '{"n": 7}']::jsonb[]);
select is(pgmq.purge_queue('pgtap_basic'), 2::bigint, 'purge_queue returns the number of messages purged');
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
create or replace function pg_temp.local_conn() returns text language sql as $$
  select format('host=%s port=%s dbname=%s user=%s',
    split_part(current_setting('unix_socket_directories'), ',', 1),
    current_setting('port'), current_database(), current_user)
$$;
select extensions.dblink_connect('reader_a', pg_temp.local_conn());
select extensions.dblink_connect('reader_b', pg_temp.local_conn());
select * from extensions.dblink('reader_a', $$select pgmq.create('pgtap_concurrent')::text$$) as t(done text);
select count(*) from extensions.dblink('reader_a',
  $$select pgmq.send_batch('pgtap_concurrent', array['{"i":1}','{"i":2}','{"i":3}','{"i":4}','{"i":5}','{"i":6}']::jsonb[])$$
) as t(msg_id bigint);
select extensions.dblink_exec('reader_a', 'begin');
create temp table read_by_a as
  select * from extensions.dblink('reader_a', $$select msg_id from pgmq.read('pgtap_concurrent', 30, 3)$$) as t(msg_id bigint);
create temp table read_by_b as
  select * from extensions.dblink('reader_b', $$select msg_id from pgmq.read('pgtap_concurrent', 30, 6)$$) as t(msg_id bigint);
select extensions.dblink_exec('reader_a', 'commit');
select is((select count(*) from read_by_a), 3::bigint, 'reader A gets the three messages it asked for');
select is((select count(*) from read_by_b), 3::bigint, 'reader B gets only the three messages A does not hold');
select is((select count(*) from read_by_a join read_by_b using (msg_id)), 0::bigint,
  'concurrent readers never get the same message');
select * from extensions.dblink('reader_a', $$select pgmq.drop_queue('pgtap_concurrent')$$) as t(dropped boolean);
select extensions.dblink_disconnect('reader_a');
select extensions.dblink_disconnect('reader_b');

select * from finish();
rollback;

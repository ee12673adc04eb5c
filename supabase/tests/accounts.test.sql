-- Accounts: what a new user gets, roles that cannot be self-granted, email verification.
begin;
select plan(29);

create temp table ids as
  select tests.create_user('reader@accounts.test', '{"full_name": "Rita Reader"}') as reader,
         tests.create_user('admin@accounts.test') as admin;
grant select on ids to public;
insert into public.user_roles (user_id, role_name) select admin, 'superadmin' from ids;

-- The auth trigger.
select is((select display_name from public.profiles where id = (select reader from ids)), 'Rita Reader',
  'a new user gets a profile named from their metadata');
select is((select email from public.profiles where id = (select reader from ids)), 'reader@accounts.test',
  'the profile carries the auth email');
select is((select roles from public.profiles where id = (select reader from ids)), '["user"]'::jsonb,
  'a new user has the base role');
select is((select jsonb_typeof(roles) from public.profiles where id = (select reader from ids)), 'array',
  'profiles.roles is a JSON array of role names');
select results_eq(
  $$select tier::text, status::text, video_count_used, video_count_limit from public.user_subscriptions
    where user_id = (select reader from ids)$$,
  $$values ('free', 'active', 0, 2)$$,
  'a new user gets an active free subscription with the free tier''s limit');
select is((select count(*)::integer from public.user_progress where user_id = (select reader from ids) and level = 1), 1,
  'a new user gets a progress record');
update auth.users set email = 'rita@accounts.test' where id = (select reader from ids);
select is((select email from public.profiles where id = (select reader from ids)), 'rita@accounts.test',
  'an email change reaches the profile');

-- updated_at moves on update (now() is frozen in a transaction, so start from the past).
update public.profiles set updated_at = '2020-01-01' where id = (select reader from ids);
update public.profiles set bio = 'Reads a lot.' where id = (select reader from ids);
select ok((select updated_at > '2020-01-01' from public.profiles where id = (select reader from ids)),
  'updated_at moves when a row changes');

-- Role escalation is refused.
select tests.authenticate_as((select reader from ids));
select is(tests.try_rows($$update public.profiles set roles = '["superadmin"]' where id = (select auth.uid())$$),
  'denied', 'a user cannot change profiles.roles');
select is(tests.try_rows($$insert into public.user_roles (user_id, role_name) values ((select auth.uid()), 'superadmin')$$),
  'denied', 'a user cannot insert a role for themselves');
select is(tests.try_rows($$update public.user_roles set role_name = 'superadmin' where user_id = (select auth.uid())$$),
  'denied', 'a user cannot upgrade their role row');
select throws_ok($$select public.grant_role((select reader from ids), 'superadmin')$$, '42501',
  'only a superadmin can grant roles', 'grant_role refuses a non-superadmin');
select is(tests.try_rows($$update public.profiles set display_name = 'Rita R.' where id = (select auth.uid())$$),
  '1', 'a user can still edit their own display name');

select tests.authenticate_as((select admin from ids));
select lives_ok($$select public.grant_role((select reader from ids), 'author')$$, 'a superadmin grants a role');
select tests.clear_authentication();
select is((select roles from public.profiles where id = (select reader from ids)), '["user", "author"]'::jsonb,
  'profiles.roles follows user_roles after a grant');
select tests.authenticate_as((select admin from ids));
select lives_ok($$select public.revoke_role((select reader from ids), 'author')$$, 'a superadmin revokes a role');
select throws_ok($$select public.revoke_role((select reader from ids), 'user')$$, '22023', null,
  'the base role cannot be revoked');
select tests.clear_authentication();
select is((select roles from public.profiles where id = (select reader from ids)), '["user"]'::jsonb,
  'profiles.roles follows user_roles after a revoke');
select tests.authenticate_as_service_role();
update public.profiles set roles = '["superadmin"]' where id = (select reader from ids);
select is((select roles from public.profiles where id = (select reader from ids)), '["user"]'::jsonb,
  'even a direct backend update cannot make profiles.roles disagree with user_roles');

-- Email verification: hashed tokens, redeemed only by their user, never readable.
select tests.clear_authentication();
create temp table token as select private.issue_email_verification((select reader from ids)) as value;
grant select on token to public;
select is((select count(*)::integer from public.email_verifications
           where token = encode(sha256(convert_to((select value from token), 'UTF8')), 'hex')), 1,
  'the token is stored as its SHA-256 hash');
select is((select count(*)::integer from public.email_verifications where token = (select value from token)), 0,
  'the plain token is stored nowhere');
select is((select verified from public.email_verifications where user_id = (select reader from ids)), false,
  'a fresh verification is not verified (verified follows verified_at)');
select throws_ok($$update public.email_verifications set verified = true where user_id = (select reader from ids)$$,
  '428C9', null, 'verified is generated and cannot be written');
select tests.authenticate_as((select admin from ids));
select throws_ok($$select public.verify_email((select value from token))$$, 'P0002', null,
  'another user cannot redeem the token');
select tests.authenticate_as((select reader from ids));
select throws_ok($$select public.verify_email('not-a-token')$$, 'P0002', null, 'a wrong token is refused');
select ok(public.verify_email((select value from token)), 'the user redeems their token');
select ok((select exists (select 1 from public.email_verifications v join public.profiles p on p.id = v.user_id
  and p.email = v.email where v.user_id = (select auth.uid()) and v.verified)), 'the current address is verified');
select ok((select verified and verified_at is not null from public.email_verifications where user_id = (select auth.uid())),
  'the redeemed verification reads as verified, with its verified_at');
select tests.authenticate_as_anon();
select throws_ok($$select public.verify_email('x')$$, '42501', null, 'anon cannot call verify_email');

select * from finish();
rollback;

-- Storage: books (uploads), covers and media (generated images, audio, video), each private.
-- A user reads and writes only under their own `<user_id>/` folder, with names that stay in it.
insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
values
  ('books', 'books', false, 52428800, array['text/plain', 'text/markdown', 'application/pdf', 'application/epub+zip',
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'application/octet-stream']),
  ('covers', 'covers', false, 5242880, array['image/png', 'image/jpeg', 'image/webp']),
  ('media', 'media', false, 524288000, array['image/png', 'image/jpeg', 'image/webp', 'audio/wav', 'audio/mpeg',
    'video/mp4']),
  -- Badge icons: public reference images, written only by the backend (seeded from supabase/seed/badges).
  ('badges', 'badges', true, 1048576, array['image/svg+xml', 'image/png']),
  -- NFT images and metadata under their IPFS CIDs: public (anyone may fetch and pin them), backend-written.
  ('nfts', 'nfts', true, 1048576, array['image/svg+xml', 'image/png', 'application/json'])
on conflict (id) do nothing;

create policy "users read files in their own folder" on storage.objects
  for select to authenticated
  using (bucket_id in ('books', 'covers', 'media') and (storage.foldername(name))[1] = (select auth.uid()::text));
create policy "users upload files to their own folder" on storage.objects
  for insert to authenticated
  with check (bucket_id in ('books', 'covers', 'media') and (storage.foldername(name))[1] = (select auth.uid()::text)
    and private.is_safe_object_name(name));
create policy "users replace files in their own folder" on storage.objects
  for update to authenticated
  using (bucket_id in ('books', 'covers', 'media') and (storage.foldername(name))[1] = (select auth.uid()::text))
  with check (bucket_id in ('books', 'covers', 'media') and (storage.foldername(name))[1] = (select auth.uid()::text)
    and private.is_safe_object_name(name));
create policy "users delete files in their own folder" on storage.objects
  for delete to authenticated
  using (bucket_id in ('books', 'covers', 'media') and (storage.foldername(name))[1] = (select auth.uid()::text));

-- Reference data and a demo account. Idempotent: `db push --include-seed` may run it again.

-- Character archetypes: Campbell's hero's-journey roles and Jung's twelve character types.
insert into public.character_archetypes (name, category, tradition, description, traits, typical_roles, example_characters)
values
  ('Hero', 'hero', 'campbell', 'Leaves the ordinary world, is tested, and returns changed with something of value.',
    '["courageous", "determined", "flawed", "growing"]', '["protagonist"]',
    'Luke Skywalker, Frodo Baggins, Katniss Everdeen'),
  ('Mentor', 'mentor', 'campbell', 'Gives the hero training, a gift or advice, then steps back so the hero can act alone.',
    '["wise", "experienced", "protective", "demanding"]', '["mentor", "supporting"]',
    'Obi-Wan Kenobi, Gandalf, Haymitch Abernathy'),
  ('Threshold Guardian', 'threshold_guardian', 'campbell', 'Blocks the way at the edge of a new world and tests whether the hero is ready.',
    '["obstinate", "testing", "territorial"]', '["antagonist", "minor"]',
    'the Doorknob in Alice in Wonderland, the Sphinx'),
  ('Herald', 'herald', 'campbell', 'Announces the change that starts the journey: a message, a person or an event.',
    '["disruptive", "urgent", "catalytic"]', '["supporting", "minor"]',
    'R2-D2 with Leia''s message, Hagrid delivering the letter'),
  ('Shapeshifter', 'shapeshifter', 'campbell', 'Changes loyalty or face, so the hero cannot be sure who or what they are.',
    '["ambiguous", "changeable", "seductive", "unreliable"]', '["love_interest", "supporting"]',
    'Catwoman, Severus Snape'),
  ('Shadow', 'shadow', 'campbell', 'Embodies what the hero fears or rejects; the opposing force of the story.',
    '["threatening", "mirror of the hero", "relentless"]', '["antagonist"]',
    'Darth Vader, Sauron, President Snow'),
  ('Trickster', 'trickster', 'campbell', 'Brings mischief and comic relief, and cuts the proud down to size.',
    '["playful", "irreverent", "clever", "chaotic"]', '["sidekick", "supporting"]',
    'Loki, Puck, Bugs Bunny'),
  ('Ally', 'ally', 'campbell', 'Travels with the hero, helps with tasks the hero cannot do alone, and humanises them.',
    '["loyal", "supportive", "complementary skills"]', '["sidekick", "deuteragonist"]',
    'Samwise Gamgee, Ron Weasley, Chewbacca'),
  ('Innocent', 'hero', 'jung', 'Wants to be happy and safe; optimistic, trusting, sometimes naive.',
    '["optimistic", "pure", "trusting"]', '["protagonist", "supporting"]',
    'Forrest Gump, Dorothy Gale'),
  ('Everyman', 'hero', 'jung', 'Wants to belong; ordinary, down to earth, and relatable to the reader.',
    '["realistic", "empathetic", "unpretentious"]', '["protagonist", "supporting"]',
    'Bilbo Baggins, Arthur Dent'),
  ('Warrior', 'hero', 'jung', 'Proves worth through courage and mastery; fights for what is right.',
    '["brave", "disciplined", "competitive"]', '["protagonist", "deuteragonist"]',
    'Wonder Woman, Achilles'),
  ('Caregiver', 'mentor', 'jung', 'Protects and cares for others, often at a cost to themselves.',
    '["compassionate", "generous", "selfless"]', '["mentor", "supporting"]',
    'Molly Weasley, Marmee March'),
  ('Explorer', 'hero', 'jung', 'Seeks freedom and discovery; restless in the familiar.',
    '["curious", "independent", "restless"]', '["protagonist"]',
    'Indiana Jones, Captain Kirk'),
  ('Rebel', 'hero', 'jung', 'Breaks rules that no longer work and overturns what is unjust.',
    '["defiant", "disruptive", "free-spirited"]', '["protagonist", "antagonist"]',
    'Robin Hood, Randle McMurphy'),
  ('Lover', 'ally', 'jung', 'Seeks intimacy and connection; driven by passion and commitment.',
    '["passionate", "devoted", "sensual"]', '["love_interest"]',
    'Romeo, Elizabeth Bennet'),
  ('Creator', 'hero', 'jung', 'Makes something of lasting value; imaginative and driven by vision.',
    '["inventive", "perfectionist", "visionary"]', '["protagonist", "supporting"]',
    'Victor Frankenstein, Willy Wonka'),
  ('Jester', 'trickster', 'jung', 'Lives in the moment with joy and humour, and reveals truth through jokes.',
    '["funny", "light-hearted", "truth-telling"]', '["sidekick"]',
    'Falstaff, the Fool in King Lear'),
  ('Sage', 'mentor', 'jung', 'Seeks truth and understanding, and shares knowledge.',
    '["wise", "analytical", "detached"]', '["mentor"]',
    'Yoda, Sherlock Holmes'),
  ('Magician', 'mentor', 'jung', 'Transforms reality by understanding its laws; makes the impossible happen.',
    '["visionary", "charismatic", "transformative"]', '["mentor", "antagonist"]',
    'Prospero, Merlin'),
  ('Ruler', 'threshold_guardian', 'jung', 'Seeks control and order, and takes responsibility for a realm.',
    '["commanding", "responsible", "organised"]', '["antagonist", "supporting"]',
    'King Arthur, Don Vito Corleone')
on conflict (name) do nothing;

-- Badges: machine-readable criteria (see docs/rewards.md), an icon each (supabase/seed/badges, served from
-- the public badges bucket).
insert into public.badges (name, description, category, rarity, icon_url, criteria, xp_reward)
values
  ('First Book', 'Upload your first book and see its chapters.', 'achievement', 'common', '/storage/v1/object/public/badges/first-book.svg',
    '{"metric": "books_uploaded", "operator": ">=", "threshold": 1}', 10),
  ('Librarian', 'Upload ten books.', 'milestone', 'rare', '/storage/v1/object/public/badges/librarian.svg',
    '{"metric": "books_uploaded", "operator": ">=", "threshold": 10}', 100),
  ('Director''s Chair', 'Create your first video from a chapter.', 'achievement', 'common', '/storage/v1/object/public/badges/directors-chair.svg',
    '{"metric": "videos_created", "operator": ">=", "threshold": 1}', 20),
  ('Studio Mogul', 'Create one hundred videos.', 'milestone', 'epic', '/storage/v1/object/public/badges/studio-mogul.svg',
    '{"metric": "videos_created", "operator": ">=", "threshold": 100}', 500),
  ('First Steps Scholar', 'Pass your first chapter quiz.', 'skill', 'common', '/storage/v1/object/public/badges/first-steps-scholar.svg',
    '{"metric": "quizzes_completed", "operator": ">=", "threshold": 1}', 10),
  ('Quiz Whiz', 'Complete twenty-five chapter quizzes.', 'skill', 'uncommon', '/storage/v1/object/public/badges/quiz-whiz.svg',
    '{"metric": "quizzes_completed", "operator": ">=", "threshold": 25}', 50),
  ('Flawless', 'Answer a whole chapter quiz without a mistake.', 'skill', 'rare', '/storage/v1/object/public/badges/flawless.svg',
    '{"metric": "achievements.first_perfect_quiz", "operator": ">=", "threshold": 1}', 40),
  ('Patron', 'Support LitinkAI with your first payment.', 'achievement', 'uncommon', '/storage/v1/object/public/badges/patron.svg',
    '{"metric": "total_spent_usd", "operator": ">", "threshold": 0}', 25),
  ('Storyteller', 'Upload five books and create five videos.', 'milestone', 'epic', '/storage/v1/object/public/badges/storyteller.svg',
    '{"all": [{"metric": "books_uploaded", "operator": ">=", "threshold": 5}, {"metric": "videos_created", "operator": ">=", "threshold": 5}]}', 200),
  ('Centurion', 'Earn one thousand XP.', 'milestone', 'legendary', '/storage/v1/object/public/badges/centurion.svg',
    '{"metric": "total_xp", "operator": ">=", "threshold": 1000}', 0)
on conflict (name) do nothing;

-- Demo account (password `litinkai-demo`, bcrypt as Auth stores it) and its sample book. The token
-- columns are empty strings, not null, as Auth expects of users it did not create itself.
insert into auth.users (instance_id, id, aud, role, email, encrypted_password, raw_app_meta_data,
  raw_user_meta_data, email_confirmed_at, confirmation_token, recovery_token, email_change_token_new, email_change)
values ('00000000-0000-0000-0000-000000000000', '00000000-0000-4000-8000-00000000d3e0', 'authenticated',
  'authenticated', 'demo@litinkai.test', extensions.crypt('litinkai-demo', extensions.gen_salt('bf', 10)),
  '{"provider": "email", "providers": ["email"]}', '{"full_name": "Demo Reader"}', now(), '', '', '', '')
on conflict (id) do nothing;

insert into public.books (id, user_id, title, author, description, book_type, structure_type, genre, status,
  total_chapters, word_count, estimated_duration_minutes)
values ('00000000-0000-4000-8000-0000000b0001', '00000000-0000-4000-8000-00000000d3e0',
  'The Lighthouse at Gull Point', 'LitinkAI Sample Press',
  'A girl, a lighthouse keeper and the storm that tests them both.', 'entertainment', 'chapters', 'adventure', 'ready',
  3, 0, 0)
on conflict (id) do nothing;

insert into public.chapters (id, book_id, chapter_number, title, content)
values
  ('00000000-0000-4000-8000-0000000c0001', '00000000-0000-4000-8000-0000000b0001', 1, 'The Keeper',
$$On the morning Mara arrived at Gull Point, fog lay over the harbour like wet wool. She carried one bag and a letter from her aunt, and she had never seen the sea.

The lighthouse stood at the end of a rocky path. An old man in a blue coat was painting its door. He did not turn around.

"You must be the girl who wants to learn the light," he said.

"I am Mara," she said. "My aunt says you need help."

"Your aunt says a great many things." He put down his brush and looked at her for a long moment. "The lamp must be lit before sunset, every day, storm or calm. Can you climb one hundred and twelve steps without complaining?"

"I can climb two hundred," Mara said.

The keeper, whose name was Elias Brand, almost smiled.$$),
  ('00000000-0000-4000-8000-0000000c0002', '00000000-0000-4000-8000-0000000b0001', 2, 'The Lamp Room',
$$That evening in the lamp room, Elias showed her how to trim the wick and polish the great glass lens until it shone like ice.

"Ships have broken on these rocks for three hundred years," he said. "The light does not save them. It only tells them where the danger is. They must save themselves."

Mara wiped the last smear from the glass. Far below, the tide was coming in, and the wind had begun to sing against the windows.

"What happens if the light goes out?" she asked.

"Then someone climbs the stairs and lights it again," Elias said. "That is the whole job, and it is harder than it sounds."

Through the night she listened to the sea and counted the turns of the beam across the water.$$),
  ('00000000-0000-4000-8000-0000000c0003', '00000000-0000-4000-8000-0000000b0001', 3, 'The Storm',
$$At midnight a storm struck Gull Point. Rain hammered the tower, and the power failed with a crack that shook the stairs.

Elias had gone down to the harbour to help the fishermen tie their boats. Mara was alone in the dark lighthouse.

Out on the black water she saw a small green light: a fishing boat, turning the wrong way, towards the rocks.

"Not tonight," Mara whispered.

She found the old oil lamp, climbed one hundred and twelve steps in the dark, and lit the wick with shaking hands. The lens caught the flame and threw it across the sea.

The green light turned. The boat slid past the rocks and into the harbour.

At dawn Elias climbed the stairs, soaked and tired, and found her asleep beside the lamp. He put his blue coat over her shoulders and said nothing at all.$$)
on conflict (id) do nothing;

-- Word counts and reading time (238 words per minute) follow from the text.
update public.chapters c
set word_count = w.words, duration = ceil(w.words / 238.0)
from (select id, array_length(regexp_split_to_array(btrim(content), '\s+'), 1) as words from public.chapters
      where book_id = '00000000-0000-4000-8000-0000000b0001') w
where c.id = w.id;
update public.books b
set word_count = (select sum(word_count) from public.chapters where book_id = b.id),
    estimated_duration_minutes = (select sum(duration) from public.chapters where book_id = b.id)
where b.id = '00000000-0000-4000-8000-0000000b0001';

import assert from "node:assert/strict";
import { boundScenes, findCharacterNames, generateScriptByRules, SCRIPT_LIMITS } from "./script_rules.ts";

const chapter = `On the morning Mara arrived at Gull Point, fog lay over the harbour. She carried one bag.

The lighthouse stood at the end of a rocky path. An old man in a blue coat was painting its door.

"You must be the girl who wants to learn the light," he said.

"I am Mara," she said. "My aunt says you need help."

"Can you climb one hundred and twelve steps?" asked Elias.

At midnight a storm struck the lighthouse. Rain hammered the tower and Mara climbed the stairs in the dark.

"Not tonight," Mara whispered.`;

Deno.test("character names come from speech attributions and recurring capitalised words", () => {
  const names = findCharacterNames(chapter);
  assert.ok(names.includes("Mara"));
  assert.ok(names.includes("Elias"));
  assert.ok(!names.includes("The"));
  assert.ok(!names.includes("Gull") && !names.includes("Point"), "place names are not characters");
});

Deno.test("quoted dialogue becomes character lines with the right speakers", () => {
  const script = generateScriptByRules({
    chapterTitle: "The Keeper",
    chapterNumber: 1,
    content: chapter,
    style: "cinematic",
  });
  const lines = script.scenes.flatMap((s) => s.dialogue);
  assert.deepEqual(lines.map((l) => l.speaker), ["Elias", "Mara", "Mara", "Elias", "Mara"]);
  assert.equal(lines[1].line, "I am Mara.");
  assert.match(script.script, /^ {4}MARA$/m);
});

Deno.test("scenes break at time cues and carry location and time of day from the text", () => {
  const script = generateScriptByRules({
    chapterTitle: "The Keeper",
    chapterNumber: 1,
    content: chapter,
    style: "narration",
  });
  assert.equal(script.scenes.length, 2);
  assert.equal(script.scenes[0].time_of_day, "morning");
  assert.equal(script.scenes[0].location, "Harbour");
  assert.equal(script.scenes[1].time_of_day, "night");
  assert.equal(script.scenes[1].location, "Lighthouse");
  assert.match(script.scenes[1].audio_requirements, /rain and storm/);
  assert.ok(script.scenes.every((s) => s.estimated_duration_seconds > 0));
});

Deno.test("with a plot the script records acts, beats and the arcs of characters present", () => {
  const script = generateScriptByRules({
    chapterTitle: "The Keeper",
    chapterNumber: 1,
    content: chapter,
    style: "educational",
    plot: { id: "p1", logline: "A girl learns to keep the light." },
    characters: [{ name: "Mara", role: "protagonist", arc: "from doubt to courage" }, { name: "Absent" }],
  });
  assert.equal(script.plot_usage?.plot_enhanced, true);
  assert.equal(script.plot_usage?.character_enhanced, true);
  assert.deepEqual(Object.keys(script.plot_usage?.character_arcs ?? {}), ["Mara"]);
  assert.deepEqual(script.plot_usage?.acts.flatMap((a) => a.scenes), [1, 2]);
  assert.match(script.script, /Key points:/);
});

Deno.test("an empty chapter is refused with a clear message", () => {
  assert.throws(
    () =>
      generateScriptByRules({
        chapterTitle: "Blank",
        chapterNumber: 2,
        content: "  \n ",
        style: "narration",
      }),
    /no text to script/,
  );
});

Deno.test("a long chapter gets longer scenes, never more than the script limits allow", () => {
  const paragraph = "Mara walked along the harbour wall and counted the boats that came in with the tide. ";
  const long = Array.from({ length: 1200 }, (_, i) => `${paragraph.repeat(2)}It was hour ${i}.`).join("\n\n");
  for (const style of ["cinematic", "educational"] as const) {
    const script = generateScriptByRules({ chapterTitle: "Long", chapterNumber: 1, content: long, style });
    assert.ok(script.scenes.length <= SCRIPT_LIMITS.scenes, `${script.scenes.length} scenes (${style})`);
    assert.ok(
      script.scenes.length >= SCRIPT_LIMITS.scenes / 2,
      "the chapter is still spread over many scenes",
    );
    for (const scene of script.scenes) {
      assert.ok(scene.narration.length <= SCRIPT_LIMITS.textChars, `narration of ${scene.narration.length}`);
      assert.ok(scene.visual_description.length <= SCRIPT_LIMITS.textChars);
    }
  }
  const bounded = boundScenes(Array.from({ length: 70 }, (_, i) => ({
    scene_number: i + 1,
    location: "Dock",
    time_of_day: "night" as const,
    characters: [],
    key_actions: [],
    visual_description: "v".repeat(3000),
    audio_requirements: "",
    narration: "word ".repeat(1000),
    dialogue: Array.from({ length: 50 }, () => ({ speaker: "A", line: "l".repeat(900) })),
    estimated_duration_seconds: 5000,
  })));
  assert.equal(bounded.length, 60);
  assert.ok(
    bounded.every((s) =>
      s.visual_description.length <= 2000 && s.narration.length <= 2000 && s.dialogue.length === 40 &&
      s.dialogue.every((d) => d.line.length <= 500) && s.estimated_duration_seconds === 600
    ),
  );
});

Deno.test("character names are names: not titles, weekdays, deities or words that only start sentences", () => {
  const text = `Monday came grey. Lady Catherine rode to the village, and Catherine spoke to Sir Walter.
"Good morning," said Walter. Later the rain stopped. God knows why Catherine laughed.
Later still, Walter and Catherine walked home on Monday evening, thanking God. Sir Walter smiled at Lady Catherine.`;
  const names = findCharacterNames(text);
  assert.deepEqual(names.sort(), ["Catherine", "Walter"]);
});

Deno.test("a script is written within its quality's budget: scenes, characters of speech and seconds", () => {
  const paragraph =
    'Mara walked along the harbour wall and said "The boats are late tonight, Tom." He nodded. ';
  const long = Array.from({ length: 400 }, (_, i) => `${paragraph.repeat(3)}It was hour ${i}.`).join("\n\n");
  const free = { scenes: 8, speech_characters: 2000, video_seconds: 150 };
  for (const style of ["cinematic", "narration"] as const) {
    const script = generateScriptByRules({
      chapterTitle: "Long",
      chapterNumber: 1,
      content: long,
      style,
      limits: free,
    });
    const spoken = script.scenes.reduce(
      (n, s) => n + s.narration.length + s.dialogue.reduce((m, d) => m + d.line.length, 0),
      0,
    );
    const seconds = script.scenes.reduce((n, s) => n + s.estimated_duration_seconds, 0);
    assert.ok(
      script.scenes.length <= 8 && script.scenes.length >= 4,
      `${script.scenes.length} scenes (${style})`,
    );
    assert.ok(spoken <= 2000 && spoken > 1000, `${spoken} characters of speech (${style})`);
    assert.ok(seconds <= 150, `${seconds} seconds (${style})`);
  }
});

Deno.test("no scene speaks longer than a scene may last, whatever the model wrote", () => {
  const [scene] = boundScenes([{
    scene_number: 1,
    location: "Dock",
    time_of_day: "night",
    characters: ["A"],
    key_actions: [],
    visual_description: "v",
    audio_requirements: "",
    narration: "word ".repeat(400),
    dialogue: Array.from({ length: 40 }, () => ({ speaker: "A", line: "line ".repeat(100) })),
    estimated_duration_seconds: 600,
  }]);
  const spoken = scene.narration.length + scene.dialogue.reduce((n, d) => n + d.line.length, 0);
  assert.ok(
    spoken <= SCRIPT_LIMITS.sceneSpeechChars && spoken > SCRIPT_LIMITS.sceneSpeechChars * 0.9,
    `${spoken}`,
  );
});

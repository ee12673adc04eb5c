/** The offline script writer: rules over the chapter text, no tool and no network (Edge-safe). */
import { MODELS } from "./models.ts";
import { generateScriptByRules } from "./text/script_rules.ts";
import { wordCount } from "./text/text_utils.ts";
import type { ScriptProvider } from "./types.ts";

export const offlineScript: ScriptProvider = {
  generateScript(input) {
    const script = generateScriptByRules(input);
    const inputWords = wordCount(input.content);
    return Promise.resolve({
      script,
      model: MODELS.offlineText,
      usage: [{
        model: MODELS.offlineText,
        operation: "script",
        input_tokens: Math.ceil(inputWords * 1.3),
        output_tokens: Math.ceil(wordCount(script.script) * 1.3),
      }],
    });
  },
};

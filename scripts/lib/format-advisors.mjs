// Turns `supabase db advisors` JSON findings into one line each; passes other text through.
let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const start = input.indexOf("[");
  const end = input.lastIndexOf("]");
  let findings;
  try {
    findings = start >= 0 ? JSON.parse(input.slice(start, end + 1)) : null;
  } catch {
    findings = null;
  }
  if (!Array.isArray(findings)) {
    process.stdout.write(input.split("\n").filter((l) => !l.startsWith("Target:")).join("\n"));
    return;
  }
  for (const f of findings) {
    console.log(`  ${f.level} ${f.categories?.join(",")} ${f.name}: ${f.detail}`);
  }
  console.log(`  ${findings.length} finding(s)`);
});

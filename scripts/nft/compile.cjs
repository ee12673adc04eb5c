// Compiles LitinkBadge.sol (OpenZeppelin ERC-721) with solc from npm into its ABI and bytecode:
// node scripts/nft/compile.cjs [--check]. With --check it fails when the committed artifact differs.
const fs = require("node:fs");
const path = require("node:path");
const solc = require("solc");

const root = path.join(__dirname, "..", "..");
const dir = path.join(root, "supabase", "functions", "_shared", "nft");
const source = fs.readFileSync(path.join(dir, "LitinkBadge.sol"), "utf8");
const input = {
  language: "Solidity",
  sources: { "LitinkBadge.sol": { content: source } },
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: "paris",
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
  },
};
const findImports = (name) => {
  try {
    return { contents: fs.readFileSync(require.resolve(name), "utf8") };
  } catch {
    return { error: `not found: ${name}` };
  }
};
const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
const errors = (output.errors ?? []).filter((e) => e.severity === "error");
if (errors.length) {
  console.error(errors.map((e) => e.formattedMessage).join("\n"));
  process.exit(1);
}
const contract = output.contracts["LitinkBadge.sol"].LitinkBadge;
const artifact = JSON.stringify(
  { compiler: `solc ${solc.version()}`, abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}` },
  null,
  2,
) + "\n";
const target = path.join(dir, "LitinkBadge.json");
if (process.argv.includes("--check")) {
  if (fs.readFileSync(target, "utf8") !== artifact) {
    console.error("LitinkBadge.json differs from a fresh compile: run node scripts/nft/compile.cjs");
    process.exit(1);
  }
  console.log("LitinkBadge.json matches a fresh compile");
} else {
  fs.writeFileSync(target, artifact);
  console.log(`compiled LitinkBadge with solc ${solc.version()}`);
}

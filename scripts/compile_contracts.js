// Compiles contracts/*.sol offline with the pinned npm `solc` and writes
// contracts/build/<Name>.json ({contractName, abi, bytecode, solcVersion}).
const fs = require("fs");
const path = require("path");
const solc = require("solc");

const dir = path.join(__dirname, "..", "contracts");
const sources = {};
for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".sol"))) {
  sources[f] = { content: fs.readFileSync(path.join(dir, f), "utf8") };
}
const input = {
  language: "Solidity",
  sources,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: "cancun",
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
  },
};
const out = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (out.errors || []).filter((e) => e.severity === "error");
if (errors.length) {
  for (const e of errors) console.error(e.formattedMessage);
  process.exit(1);
}
fs.mkdirSync(path.join(dir, "build"), { recursive: true });
for (const [file, contracts] of Object.entries(out.contracts)) {
  for (const [name, c] of Object.entries(contracts)) {
    const artifact = {
      contractName: name,
      source: file,
      solcVersion: solc.version(),
      abi: c.abi,
      bytecode: "0x" + c.evm.bytecode.object,
    };
    const target = path.join(dir, "build", name + ".json");
    fs.writeFileSync(target, JSON.stringify(artifact, null, 2) + "\n");
    console.log("wrote " + path.relative(process.cwd(), target));
  }
}

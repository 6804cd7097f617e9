// Run a WASI program under Node: node run.mjs PROGRAM.wasm STDIN_FILE [ARGS...]
// Prints what the program prints; exits with its exit code.
import { readFileSync, openSync } from "node:fs";
import { WASI } from "node:wasi";
import { argv, exit } from "node:process";

const [program, input, ...args] = argv.slice(2);
const wasi = new WASI({ version: "preview1", args: [program, ...args], env: {}, stdin: openSync(input, "r"), returnOnExit: true });
const module = await WebAssembly.compile(readFileSync(program));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
exit(wasi.start(instance));

#!/usr/bin/env node
// The `fleet` command: runs the TypeScript CLI through tsx's require hook (no build step).
require("tsx/cjs");
require("./fleet.ts").run();

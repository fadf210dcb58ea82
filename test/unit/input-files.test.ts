import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { readInputFile } from "../../reconciler/config/input-file";
import { InputError } from "../../reconciler/errors";
import { readSignalsFile } from "../../reconciler/signals/file";

/**
 * Issue 18, item 5: `--signals /dev/zero` grew to 7.4 GB, a FIFO blocked forever, a 20 MB stack file
 * ran past 180 s. Inputs are regular files of bounded size, refused at once otherwise (exit 2).
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-input-"));
const refused = (f: () => unknown, re: RegExp) => assert.throws(f, (e: unknown) => e instanceof InputError && e.exitCode === 2 && re.test(e.message), String(re));

test("a device, a FIFO, a directory or a missing file is refused at once, naming the flag and the file", () => {
  refused(() => readSignalsFile("/dev/zero"), /--signals: \/dev\/zero is not a regular file \(a device\)/);
  const fifo = path.join(dir, "fifo");
  execFileSync("mkfifo", [fifo]);
  const t0 = Date.now();
  refused(() => readSignalsFile(fifo), /is not a regular file \(a pipe\)/);
  assert.ok(Date.now() - t0 < 5000, "no block on the FIFO");
  refused(() => readInputFile(dir, { field: "--spec", maxBytes: 10 }), /is not a regular file \(a directory\)/);
  refused(() => readInputFile(path.join(dir, "nope.json"), { field: "--plan", maxBytes: 10, fix: "make a plan first" }), /does not exist; make a plan first/);
});

test("files over their cap, and gzip that expands past it, are refused without reading them whole", () => {
  const big = path.join(dir, "big.json");
  fs.writeFileSync(big, "x".repeat(2048));
  refused(() => readInputFile(big, { field: "--signals", maxBytes: 1024 }), /is 2048 bytes, more than the 1024/);
  const bomb = path.join(dir, "bomb.csv.gz");
  fs.writeFileSync(bomb, gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x30)));
  refused(() => readInputFile(bomb, { field: "fleet:policy.signals.pricesFile", maxBytes: 1024 * 1024 }), /expands past 1048576 bytes/);
  const corrupt = path.join(dir, "corrupt.csv.gz");
  const gz = gzipSync(Buffer.from("week_start_utc,machine_type\n".repeat(100)));
  gz.writeUInt8(gz.readUInt8(gz.length >> 1) ^ 0xff, gz.length >> 1);
  fs.writeFileSync(corrupt, gz);
  refused(() => readInputFile(corrupt, { field: "fleet:policy.signals.pricesFile", maxBytes: 1024 * 1024 }), /corrupt\.csv\.gz is not valid gzip .*replace it/);
  const ok = path.join(dir, "ok.csv.gz");
  fs.writeFileSync(ok, gzipSync("a,b\n1,2\n"));
  assert.equal(readInputFile(ok, { field: "x", maxBytes: 100 }), "a,b\n1,2\n");
});

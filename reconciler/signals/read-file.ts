import * as fs from "node:fs";
import * as zlib from "node:zlib";
import { InputError } from "../errors";

/** Reads a text file that may be gzipped (.gz); a missing file is bad input naming `field` and the fix. */
export function readTextFile(file: string, field: string, fix: string): string {
  if (!fs.existsSync(file)) throw new InputError(field, [{ field, message: `${file} does not exist; ${fix}` }]);
  const buf = fs.readFileSync(file);
  return (file.endsWith(".gz") ? zlib.gunzipSync(buf) : buf).toString("utf8");
}

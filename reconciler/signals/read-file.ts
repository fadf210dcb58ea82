import { INPUT_LIMITS, readInputFile } from "../config/input-file";

/** Reads a price file that may be gzipped (.gz), bounded (config/input-file.ts); bad input names `field` and the fix. */
export function readTextFile(file: string, field: string, fix: string): string {
  return readInputFile(file, { field, maxBytes: INPUT_LIMITS.prices, fix });
}

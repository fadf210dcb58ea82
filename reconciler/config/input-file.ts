import * as fs from "node:fs";
import * as zlib from "node:zlib";
import { InputError } from "../errors";

/** Size caps per kind of input file (bytes; for .gz, of the compressed file and of its content). */
export const INPUT_LIMITS = {
  /** The stack file: YAML parsing grows faster than linearly with size (4 MB took 40 s). */
  stack: 512 * 1024,
  signals: 16 * 1024 * 1024,
  plan: 16 * 1024 * 1024,
  spec: 256 * 1024,
  prices: 64 * 1024 * 1024,
} as const;

/**
 * Reads an input file safely: a regular file only (a FIFO, /dev/zero or a directory is refused
 * without blocking: opened non-blocking, checked with fstat), at most `maxBytes`, gzip expanded with
 * the same cap. Any problem is bad input (exit 2) naming `field`, the file and the fix.
 */
export function readInputFile(
  file: string,
  opts: { field: string; maxBytes: number; fix?: string; gzip?: boolean },
): string {
  const bad = (message: string) => new InputError(opts.field, [{ field: opts.field, message: `${file} ${message}` }]);
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw bad(
      code === "ENOENT"
        ? `does not exist${opts.fix ? `; ${opts.fix}` : ""}`
        : `cannot be opened (${code ?? String(e)})`,
    );
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile())
      throw bad(
        `is not a regular file (${st.isDirectory() ? "a directory" : st.isFIFO() ? "a pipe" : st.isCharacterDevice() ? "a device" : "not a file"}): give a file`,
      );
    if (st.size > opts.maxBytes)
      throw bad(`is ${st.size} bytes, more than the ${opts.maxBytes} a ${opts.field} file may be`);
    // Read at most one byte past the cap: a file that grows while read is still bounded.
    const buf = Buffer.alloc(Math.min(st.size, opts.maxBytes) + 1);
    let n = 0;
    for (let r; n < buf.length && (r = fs.readSync(fd, buf, n, buf.length - n, n)) > 0;) n += r;
    if (n > opts.maxBytes) throw bad(`grew past ${opts.maxBytes} bytes while being read`);
    const raw = buf.subarray(0, n);
    if (!(opts.gzip ?? file.endsWith(".gz"))) return raw.toString("utf8");
    try {
      return zlib.gunzipSync(raw, { maxOutputLength: opts.maxBytes }).toString("utf8");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ERR_BUFFER_TOO_LARGE") throw bad(`expands past ${opts.maxBytes} bytes`);
      throw bad(`is not valid gzip (${(e as Error).message}): replace it with a good copy`);
    }
  } finally {
    fs.closeSync(fd);
  }
}

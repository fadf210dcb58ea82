import { randomUUID } from "node:crypto";

/** A long operation (boot, destroy, approve) run in the background; clients poll its progress. */
export interface Job {
  id: string;
  kind: string;
  state: "running" | "succeeded" | "failed";
  startedAt: string;
  finishedAt: string | null;
  lines: string[];
  result: unknown;
  error: string | null;
  /** The HTTP status the failure maps to (409 blocked by budget or policy, 502 Vast, ...), when failed. */
  status: number | null;
}

/** In-memory jobs of this server process; the newest `keep` are kept. */
export class Jobs {
  private readonly jobs = new Map<string, Job>();
  constructor(private readonly now: () => number, private readonly keep = 100) {}

  start(kind: string, run: (say: (line: string) => void) => Promise<unknown>, describeError: (e: unknown) => string, statusOf: (e: unknown) => number = () => 500): Job {
    const job: Job = { id: randomUUID(), kind, state: "running", startedAt: new Date(this.now()).toISOString(), finishedAt: null, lines: [], result: null, error: null, status: null };
    this.jobs.set(job.id, job);
    while (this.jobs.size > this.keep) this.jobs.delete(this.jobs.keys().next().value!);
    void run((line) => job.lines.push(line)).then(
      (result) => Object.assign(job, { state: "succeeded", result, finishedAt: new Date(this.now()).toISOString() }),
      (e) => Object.assign(job, { state: "failed", error: describeError(e), status: statusOf(e), finishedAt: new Date(this.now()).toISOString() }),
    );
    return job;
  }

  get(id: string): Job | undefined {
    return this.jobs.get(id);
  }

  /** Resolves when the job has finished (tests, graceful shutdown). */
  async settled(id: string, pollMs = 20): Promise<Job | undefined> {
    while (this.jobs.get(id)?.state === "running") await new Promise((r) => setTimeout(r, pollMs));
    return this.jobs.get(id);
  }

  running(): Job[] {
    return [...this.jobs.values()].filter((j) => j.state === "running");
  }
}

import { execFile } from "node:child_process";
import type { ActualFleetInput, HpcSpec } from "../model";
import { readClusterStatus } from "../hpc/status";
import type { FleetReader } from "./types";

/** The fleet as it is: burst from another reader (journal or cloud), hpc from libvirt itself. */
export class FleetWithHpcReader implements FleetReader {
  constructor(
    private readonly burst: FleetReader,
    private readonly hpc: HpcSpec | null,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}
  async actual(): Promise<ActualFleetInput> {
    const base = await this.burst.actual();
    if (!this.hpc) return { ...base, hpc: null };
    try {
      const status = await readClusterStatus(this.hpc);
      return { ...base, hpc: { nodes: status.nodes.map((n) => ({ name: n.name, state: n.state })) } };
    } catch (e) {
      this.onError(e); // libvirtd down: hpc decides nothing this cycle rather than guessing
      return { ...base, hpc: null };
    }
  }
}

export interface QueueSource {
  pendingJobs(): Promise<number | null>;
}

/** Runs the configured command (e.g. `squeue -h -t PD | wc -l`); its output must be one whole number. */
export class CommandQueueSource implements QueueSource {
  constructor(private readonly command: string, private readonly timeoutMs: number) {}
  pendingJobs(): Promise<number | null> {
    return new Promise((resolve) => {
      execFile("/bin/sh", ["-c", this.command], { timeout: this.timeoutMs }, (err, stdout) => {
        const text = String(stdout).trim();
        resolve(!err && /^\d+$/.test(text) ? Number(text) : null);
      });
    });
  }
}

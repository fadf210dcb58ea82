// Recorded Pulumi engine event streams (../shared/data/pulumi-engine-events: the engine's own
// lifecycle tests, pkg/engine/lifecycletest/testdata/output, and real `pulumi up` display
// streams, pulumi/pulumi@1b59498), replayed as the Automation API hands them to `onEvent`.
import * as fs from "node:fs";
import * as path from "node:path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { engineRun } from "../../reconciler/apply/automation";
import type { PreviewSummary } from "../../reconciler/apply/types";
import type { DesiredFleet } from "../../reconciler/model";
import { SHARED_DATA } from "../helpers";
import { RecordingApplier } from "./applier";

export const ENGINE_EVENTS = path.join(SHARED_DATA, "pulumi-engine-events");

/** The events of one recording, e.g. `lifecycle/TestViewsRefreshDelete/-0-1-preview`. */
export function recordedEvents(name: string): EngineEvent[] {
  const dir = path.join(ENGINE_EVENTS, name);
  const file = name.endsWith(".json") ? dir : path.join(dir, "eventstream.json");
  const text = fs.readFileSync(file, "utf8").trim();
  return text.startsWith("[") ? (JSON.parse(text) as EngineEvent[]) : text.split("\n").map((l) => JSON.parse(l) as EngineEvent);
}

/** Feeds a recording to `onEvent`, in order. */
export function replay(name: string, onEvent: (e: EngineEvent) => void): void {
  for (const e of recordedEvents(name)) onEvent(e);
}

/**
 * The error the real Applier's engineRun raises for a recording whose CLI run failed (as the
 * Automation API rejects when the CLI exits non-zero after emitting the stream).
 */
export async function recordedFailure(kind: "preview" | "update" | "refresh", recording: string): Promise<Error> {
  return engineRun(kind, `the ${kind}`, async (onEvent) => {
    replay(recording, onEvent);
    throw new Error("code: 255");
  }).then(
    () => new Error(`the recording ${recording} did not fail`),
    (e: Error) => e,
  );
}

/**
 * An Applier whose preview is a recorded engine stream read through the real Applier's engineRun:
 * a stream whose summary says `failed` rejects, as the Automation API does when the CLI exits non-zero.
 */
export class ReplayApplier extends RecordingApplier {
  constructor(private readonly recording: string) {
    super();
  }
  override async preview(desired: DesiredFleet): Promise<PreviewSummary> {
    this.calls.push({ method: "preview", arg: desired });
    const events = recordedEvents(this.recording);
    const summary = events.find((e) => e.summaryEvent)?.summaryEvent as { result?: string; resourceChanges?: Record<string, number> } | undefined;
    const { run } = await engineRun("preview", "the preview", async (onEvent) => {
      for (const e of events) onEvent(e);
      if (summary?.result === "failed") throw new Error("code: 255\n stderr: error: preview failed");
    });
    return { counts: summary?.resourceChanges ?? {}, changes: run.changes, policy: run.policy };
  }
}

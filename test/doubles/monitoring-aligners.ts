// Which per-series aligner Cloud Monitoring accepts for which metric, read from Google's own
// definition: ../shared/data/gcp-discovery/monitoring.v3.json, `projects.timeSeries.list`, parameter
// `aggregation.perSeriesAligner` (its enum and enumDescriptions: "valid for GAUGE and DELTA metrics
// with numeric values", "... with distribution values", ...). The metric descriptors are Google's
// published ones (cloud.google.com/monitoring/api/metrics_gcp, metrics_agent).
import * as fs from "node:fs";
import * as path from "node:path";
import { SHARED_DATA } from "../helpers";

export interface MetricDescriptor {
  kind: "GAUGE" | "DELTA" | "CUMULATIVE";
  valueType: "DOUBLE" | "INT64" | "BOOL" | "DISTRIBUTION";
}

/** The metrics Fleet reads. */
export const METRICS: Record<string, MetricDescriptor> = {
  "compute.googleapis.com/instance/cpu/utilization": { kind: "GAUGE", valueType: "DOUBLE" },
  "agent.googleapis.com/memory/percent_used": { kind: "GAUGE", valueType: "DOUBLE" },
};

interface AlignerRule {
  kinds: string[] | null; // null: any
  values: string[] | null;
}

function loadAligners(): Map<string, AlignerRule> {
  const doc = JSON.parse(fs.readFileSync(path.join(SHARED_DATA, "gcp-discovery", "monitoring.v3.json"), "utf8"));
  const p = doc.resources.projects.resources.timeSeries.methods.list.parameters["aggregation.perSeriesAligner"];
  const rules = new Map<string, AlignerRule>();
  (p.enum as string[]).forEach((name, i) => {
    const text: string = p.enumDescriptions[i];
    const kinds = /valid for ((?:GAUGE|DELTA|CUMULATIVE)(?:,? (?:and|or) (?:GAUGE|DELTA|CUMULATIVE))*) metrics/.exec(text)?.[1]?.match(/GAUGE|DELTA|CUMULATIVE/g) ?? null;
    const v = /metrics with ([A-Za-z]+(?: (?:and|or) [A-Za-z]+)?) values/.exec(text)?.[1] ?? null;
    const values = v === null ? null : v.split(/ (?:and|or) /).flatMap((w) => ({ numeric: ["DOUBLE", "INT64"], distribution: ["DISTRIBUTION"], Boolean: ["BOOL"] })[w] ?? []);
    rules.set(name, { kinds, values });
  });
  return rules;
}

const ALIGNERS = loadAligners();

/** Why Cloud Monitoring would refuse this aligner for this metric (its 400 message), or null. */
export function alignerRefusal(aligner: string | null, metricType: string, alignmentPeriod: string | null): string | null {
  if (aligner === null || aligner === "ALIGN_NONE") return null;
  const rule = ALIGNERS.get(aligner);
  if (!rule) return `Invalid value at 'aggregation.per_series_aligner' (type.googleapis.com/google.monitoring.v3.Aggregation.Aligner), "${aligner}"`;
  const seconds = /^(\d+)s$/.exec(alignmentPeriod ?? "")?.[1];
  if (!seconds || Number(seconds) < 60) return "The alignment period must be at least 60 seconds when a per-series aligner is given.";
  const m = METRICS[metricType];
  if (!m) return null; // a metric this double does not describe: not checked
  if ((rule.kinds && !rule.kinds.includes(m.kind)) || (rule.values && !rule.values.includes(m.valueType))) {
    return `The aligner ${aligner} cannot be applied to metrics with kind ${m.kind} and value type ${m.valueType}.`;
  }
  return null;
}

// What the engine tests' provider plugins share. The engine loads a plugin named
// `pulumi-resource-<pkg>` from PATH before its plugin cache ("using pulumi-resource-gcp from $PATH"),
// and speaks the same gRPC provider protocol to it as to the published provider; each plugin here is
// a `@pulumi/pulumi/provider` server started by a wrapper in ./bin.
import type * as provider from "@pulumi/pulumi/provider";

/** The engine's marker for a value not known during a preview (sdk/go/common/resource/plugin). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/** The signature key of a secret value in a serialized property map (sdk/nodejs/runtime/rpc.ts). */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

export type Props = Record<string, any>;

/** The plain value of a property map: secrets unwrapped (the engine keeps them secret in state). */
export function plain<T = any>(v: T): T {
  if (Array.isArray(v)) return v.map(plain) as T;
  if (v && typeof v === "object") {
    const o = v as Props;
    if (o[SECRET_SIG] !== undefined) return plain(o.value);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, plain(x)])) as T;
  }
  return v;
}

/** `v` without undefined members (a protobuf Struct has no undefined: fromJavaScript throws). */
export function defined<T>(v: T): T {
  if (Array.isArray(v)) return v.map(defined) as T;
  if (v && typeof v === "object")
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => x !== undefined)
        .map(([k, x]) => [k, defined(x)]),
    ) as T;
  return v;
}

/** True when `v` (or anything inside it) is unknown in this preview. */
export function hasUnknown(v: unknown): boolean {
  if (v === UNKNOWN) return true;
  if (Array.isArray(v)) return v.some(hasUnknown);
  if (v && typeof v === "object") return Object.values(v).some(hasUnknown);
  return false;
}

/** Deep equality of two plain values, with undefined, null, [] and {} alike (the bridge's empty). */
export function same(a: unknown, b: unknown): boolean {
  const empty = (x: unknown) =>
    x === undefined ||
    x === null ||
    (Array.isArray(x) && x.length === 0) ||
    (typeof x === "object" && x !== null && Object.keys(x).length === 0);
  if (empty(a) && empty(b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (a && b && typeof a === "object" && typeof b === "object") {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((k) => same((a as Props)[k], (b as Props)[k]));
  }
  return a === b;
}

/** A dotted path's value (`scheduling.provisioningModel`, `bootDisk.initializeParams`). */
export function at(o: Props | undefined, dotted: string): unknown {
  return dotted.split(".").reduce<any>((v, k) => (v == null ? undefined : v[k]), o);
}

/**
 * `old` seen through the shape of `neu`: nested blocks keep only the keys the program sets, the way
 * Terraform shows no diff for an Optional+Computed attribute the configuration leaves out (a boot
 * disk's `source`, an access config's `natIp`). Maps (labels, metadata) are compared whole.
 */
function asConfigured(old: unknown, neu: unknown, isMap: boolean): unknown {
  if (isMap || !neu || typeof neu !== "object" || !old || typeof old !== "object") return old;
  if (Array.isArray(neu)) return Array.isArray(old) ? old.map((x, i) => asConfigured(x, neu[i], false)) : old;
  return Object.fromEntries(
    Object.keys(neu).map((k) => [k, asConfigured((old as Props)[k], (neu as Props)[k], false)]),
  );
}

/**
 * The diff the engine gets for a resource: the input fields that changed, and which of them force
 * a replacement (a Terraform schema's ForceNew, cited per resource where the rule is declared).
 * `fields` are the inputs the resource reads, `maps` those compared whole; unknown new values count
 * as changed. `olds` are the resource's recorded outputs (what the Node provider server passes).
 */
export function diffByRules(
  olds: Props,
  news: Props,
  fields: string[],
  forceNew: string[],
  maps: string[] = ["labels", "metadata"],
): provider.DiffResult {
  const o = plain(olds);
  const n = plain(news);
  const differs = (f: string) =>
    hasUnknown(at(n, f)) || !same(asConfigured(at(o, f), at(n, f), maps.includes(f)), at(n, f));
  const changed = fields.filter(differs);
  return { changes: changed.length > 0, replaces: forceNew.filter(differs), deleteBeforeReplace: false };
}

/** The bridge's auto-name: the logical name, a dash and 7 random lowercase hex characters. */
export function autoName(urn: string): string {
  const logical = urn.split("::").pop()!;
  return `${logical}-${Math.random().toString(16).slice(2, 9).padEnd(7, "0")}`.toLowerCase();
}

/** Keeps the name a resource already has (an auto-name is made once, on the first check). */
export function keepName(olds: Props, news: Props, urn: string, field = "name"): Props {
  if (news[field] !== undefined) return news;
  return { ...news, [field]: olds?.[field] ?? autoName(urn) };
}

/** The resource type of a URN: `gcp:compute/instance:Instance`. */
export function typeOf(urn: string): string {
  return urn.split("::")[2]!.split("$").pop()!;
}

/** One resource type of a plugin: its inputs, its ForceNew rules, and its calls to the service. */
export interface Kind {
  fields: string[];
  forceNew: string[];
  /** Inputs compared whole (labels, tags, metadata). */
  maps?: string[];
  /** Fills what the bridge fills in check (auto-names, the provider's project). */
  check?: (urn: string, olds: Props, news: Props) => Props;
  create(i: Props): Promise<{ id: string; outs: Props }>;
  read(id: string, i: Props): Promise<Props | undefined>;
  update?(id: string, olds: Props, news: Props): Promise<void>;
  delete(id: string, i: Props): Promise<void>;
}

/**
 * A provider over `kinds`, as the bridge serves one: check (with `defaults` filled), the diff by the
 * kinds' rules, create from known inputs only, read (gone: an empty id), update then read back,
 * delete (an error `isGone` accepts means already deleted), and `invoke` for data sources.
 */
export function kindsProvider(args: {
  pkg: string;
  version: string;
  kinds: Record<string, Kind>;
  defaults?: (inputs: Props) => Props;
  isGone?: (e: unknown) => boolean;
  invoke?: provider.Provider["invoke"];
}): provider.Provider {
  const kindOf = (urn: string): Kind => {
    const k = args.kinds[typeOf(urn)];
    if (!k)
      throw new Error(
        `the test ${args.pkg} plugin does not serve ${typeOf(urn)} (add it with the rules of its Terraform resource)`,
      );
    return k;
  };
  return {
    version: args.version,
    async check(urn, olds, news) {
      const k = kindOf(urn);
      const inputs = k.check ? k.check(urn, olds, news) : news;
      return { inputs: args.defaults ? args.defaults(inputs) : inputs };
    },
    async diff(_id, urn, olds, news) {
      const k = kindOf(urn);
      return diffByRules(olds, news, k.fields, k.forceNew, k.maps);
    },
    async create(urn, inputs) {
      const i = plain(inputs);
      if (hasUnknown(i)) throw new Error(`create of ${urn} with unknown inputs`);
      const made = await kindOf(urn).create(i);
      return { id: made.id, outs: defined(made.outs) };
    },
    async read(id, urn, props) {
      const out = await kindOf(urn).read(id, plain(props ?? {}));
      return out ? { id, props: defined(out) } : { id: "", props: {} };
    },
    async update(id, urn, olds, news) {
      const k = kindOf(urn);
      const n = plain(news);
      await k.update?.(id, plain(olds), n);
      const out = await k.read(id, n);
      if (!out) throw new Error(`${urn} vanished during its update`);
      return { outs: defined(out) };
    },
    async delete(id, urn, props) {
      try {
        await kindOf(urn).delete(id, plain(props));
      } catch (e) {
        if (!args.isGone?.(e)) throw e;
      }
    },
    ...(args.invoke ? { invoke: args.invoke } : {}),
  };
}

/** Serves `p` to the engine (argv: the engine's address). */
export async function serve(p: provider.Provider): Promise<void> {
  const { main } = await import("@pulumi/pulumi/provider");
  await main(p, process.argv.slice(2));
}

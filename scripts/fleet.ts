import { Command, CommanderError, Option } from "commander";
import { EXIT, FleetError, InputError } from "../reconciler/errors";
import { VastError } from "../reconciler/vast/client";
import { redact } from "../reconciler/redact";
import { planCommand } from "./commands/plan";
import { statusCommand, costsCommand } from "./commands/status";
import { hpcChangeCommand, hpcStatusCommand, hpcValidateCommand } from "./commands/hpc";
import { gpuBootCommand, gpuDestroyCommand, gpuOffersCommand, gpuRestoreCommand, gpuStatusCommand } from "./commands/gpu";
import { sweepCommand } from "./commands/sweep";
import { burstCreateCommand, burstTerminateCommand } from "./commands/burst";
import { serveCommand } from "./commands/serve";
import { backtestCommand, forecastEvalCommand } from "./commands/pool";
import { applyCommand, driftCommand, modeCommand, reconcileCommand, recoverCommand } from "./commands/reconcile";

/** A command action that gets its options plus the global --stack, and sets the exit code. */
function withStack<T extends object>(fn: (opts: T & { stack: string }) => Promise<number>) {
  return async (opts: T, cmd: Command) => {
    process.exitCode = await fn({ ...opts, stack: cmd.optsWithGlobals().stack });
  };
}

/**
 * The fleet CLI. Exit codes: 0 ok, 1 failure, 2 bad input or config, 3 drift found,
 * 4 blocked by policy or budget. Every error goes through `main`'s one handler.
 */
export function buildProgram(): Command {
  const program = new Command("fleet")
    .description("Infrastructure as code with a drift-driven reconciler: burst, pool, standby and hpc as one desired fleet.")
    .addOption(new Option("--stack <name>", "stack to act on (Pulumi.<name>.yaml)").env("FLEET_STACK").default("local"))
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command("plan")
    .description("decide the desired fleet from signals and show the decisions, the change and its cost")
    .option("--signals <file>", "read every signal from this JSON file instead of live sources (reproducible)")
    .option("--json", "print one JSON object {desired, decisions, costs, signals, ...}")
    .option("--out <file>", "write the plan (review artifact) as JSON")
    .option("--markdown <file>", "write the plan as Markdown for review")
    .option("--applied", "plan the applied desired fleet as it is, no decisions (CI: preview a code change)")
    .action(withStack(planCommand));

  program
    .command("status")
    .description("the fleet as the journal knows it: last plan, running VMs, spend today")
    .option("--json", "print JSON")
    .action(withStack(statusCommand));

  program
    .command("costs")
    .description("spend per UTC day and area from the journal, against the daily budget")
    .option("--json", "print JSON")
    .addOption(new Option("--days <n>", "how many days back").default("7"))
    .action(withStack(costsCommand));

  const burst = program.command("burst").description("burst VMs by hand (budget and limits still checked)");
  burst
    .command("create")
    .description("add burst VMs in the cheapest allowed pool (fails closed without a budget signal or a fresh price)")
    .option("--count <n>", "how many", "1")
    .option("--reason <text>", "why (journalled)")
    .action(withStack(burstCreateCommand));
  burst
    .command("terminate")
    .description("remove burst VMs")
    .option("--name <name>", "one VM")
    .option("--all", "every burst VM")
    .option("--reason <text>", "why (journalled)")
    .action(withStack(burstTerminateCommand));

  const hpc = program.command("hpc").description("the libvirt/QEMU cluster (hpc area)");
  hpc
    .command("status")
    .description("read the cluster from libvirt directly: state, vCPU, memory, IP, disk of every node (no Pulumi needed)")
    .option("--spec <file>", "cluster spec (JSON/YAML) instead of the stack's desired.hpc")
    .option("--json", "print JSON")
    .action(withStack(hpcStatusCommand));
  hpc
    .command("validate")
    .description("check a cluster spec against this host and list every problem (exit 2 if any)")
    .option("--spec <file>", "cluster spec (JSON/YAML) instead of the stack's desired.hpc")
    .option("--json", "print JSON")
    .action(withStack(hpcValidateCommand));

  for (const action of ["up", "start", "stop", "destroy"] as const) {
    const c = hpc
      .command(action)
      .description(
        {
          up: "create or update the cluster from a spec (validated first) through the apply pipeline",
          start: "power every node on (desired running) through the apply pipeline",
          stop: "power every node off (desired shut-off) through the apply pipeline",
          destroy: "remove the cluster (asks for confirmation unless --force)",
        }[action],
      );
    if (action === "up") c.option("--spec <file>", "cluster spec (JSON/YAML); default: the stack's desired.hpc");
    if (action === "destroy") c.option("--force", "do not ask for confirmation");
    c.action(withStack((o) => hpcChangeCommand({ ...o, action })));
  }

  const gpu = program.command("gpu").description("Vast.ai GPUs, each paired with a CPU standby (GCP, or Vast with standby.target vast) that holds its work");
  gpu
    .command("offers")
    .description("search Vast.ai offers (cheapest first) under the policy's GPU requirements")
    .option("--gpu-ram-min <gb>", "GPU RAM at least (GB); default standby.gpu.gpuRamMinGb")
    .option("--max-price <usd>", "$/hour at most; default standby.gpu.maxDphUsd")
    .option("--gpu <name>", "GPU model, Vast's name (e.g. RTX_4090)")
    .option("--limit <n>", "how many offers", "20")
    .option("--standby", "list hosts for a Vast standby instead (standby.vastStandby; --max-price overrides its maxDphUsd)")
    .option("--json", "print {offers: [...]}")
    .action(withStack(gpuOffersCommand));
  gpu
    .command("boot")
    .description("rent an offer and give it a standby (through the apply pipeline; limits checked first)")
    .requiredOption("--offer <id>", "offer id from `fleet gpu offers`")
    .option("--pair <id>", "name of the pair (default gpu-<offer>)")
    .action(withStack(gpuBootCommand));
  gpu
    .command("destroy")
    .description("destroy a GPU and its standby (VM and data disk)")
    .option("--instance <id>", "the Vast instance id")
    .option("--pair <id>", "or the pair")
    .action(withStack(gpuDestroyCommand));
  gpu
    .command("status")
    .description("each GPU with its standby, last sync and GPU cost so far")
    .option("--json", "print JSON")
    .action(withStack(gpuStatusCommand));
  gpu
    .command("restore")
    .description("boot a new GPU for a gpu-lost pair and pull the standby's copy onto it before marking it running")
    .requiredOption("--pair <id>", "the pair")
    .option("--offer <id>", "offer to rent (default: the cheapest meeting the requirements)")
    .action(withStack(gpuRestoreCommand));

  program
    .command("serve")
    .description("the HTTP API and web page: status, decisions, costs, prices, plan review, GPU offers and boot")
    .option("--port <n>", "TCP port", "7878")
    .option("--host <addr>", "address to bind: a loopback address, or any other with --tls-cert and --tls-key", "127.0.0.1")
    .option("--token-file <file>", "bearer token file (created 0600 on first run)", ".fleet/api-token")
    .option("--tls-cert <file>", "TLS certificate (PEM): needed to bind a non-loopback address")
    .option("--tls-key <file>", "TLS private key (PEM)")
    .action(withStack(serveCommand));

  program
    .command("sweep")
    .description("list resources of this project (labelled with one of its stacks or pairs) that no stack knows; --yes deletes them; what other projects' resources are is left alone")
    .option("--yes", "delete them (holds every stack's lock meanwhile)")
    .option("--include-data", "with --yes, delete orphaned standby data too (GCP data disks, Vast standbys)")
    .option("--json", "print JSON")
    .action(async (opts) => {
      process.exitCode = await sweepCommand(opts);
    });

  program
    .command("backtest")
    .description("replay a recorded price file through the pool decide; compare with on-demand, staying, and the perfect-foresight oracle")
    .requiredOption("--prices <file>", "GCP weekly price CSV (.csv or .csv.gz)")
    .addOption(new Option("--vcpu <n>", "vCPUs the instance needs at least").default("4"))
    .addOption(new Option("--ram-gb <n>", "RAM (GB) the instance needs at least").default("16"))
    .option("--regions <list>", "comma-separated regions or prefixes ending in '-' (default: all)")
    .addOption(new Option("--home-region <r>", "region of the on-demand and stay baselines").default("us-central1"))
    .addOption(new Option("--switch-penalty-hours <h>", "cost of one switch, in hours of the new pool's price").default("1"))
    .option("--gpu", "allow GPU machine types")
    .option("--json", "print {hours, costUsd, onDemandCostUsd, savingsPct, switches, oracleCostUsd, oracleRatio, stayCostUsd}")
    .action(withStack(backtestCommand));

  program
    .command("forecast-eval")
    .description("rolling evaluation (no look-ahead) of the price forecast against the last-value baseline")
    .requiredOption("--series <file>", "CSV with header timestamp,pool,price")
    .addOption(new Option("--horizon <d>", "how far ahead, e.g. 1h, 30m").default("1h"))
    .option("--json", "print {points, mapeModel, mapeNaive}")
    .action(async (opts) => {
      process.exitCode = await forecastEvalCommand(opts);
    });

  program
    .command("drift")
    .description("compare desired (fresh signals) with applied config, and the world with the state; exit 3 on drift")
    .option("--json", "print JSON")
    .action(withStack(driftCommand));

  program
    .command("reconcile")
    .description("run reconcile cycles: signals -> decide -> drift -> preview -> re-check -> review or apply")
    .option("--once", "run one cycle")
    .option("--schedule <cron>", "run cycles on a cron schedule until SIGTERM/SIGINT")
    .option("--dry-run", "write nothing anywhere; print what the cycle would do")
    .option("--mode <mode>", "auto (apply) or review (write the review artifact); default: reconcile.mode")
    .option("--json", "print the cycle result as JSON (--once)")
    .action(withStack(reconcileCommand));

  program
    .command("apply")
    .description("apply exactly a reviewed plan; refuses (exit 4) if the stack or desired state moved since")
    .option("--plan <file>", "plan.json written by fleet plan --out or a review-mode cycle")
    .option("--applied", "converge on the applied desired fleet with this revision's code (CI after a merge)")
    .action(withStack(applyCommand));

  program
    .command("mode <mode>")
    .description("set an area to auto or manual (manual: its changes are held; closes the circuit breaker with auto)")
    .requiredOption("--area <area>", "burst, pool, standby or hpc")
    .option("--reason <text>", "why (recorded)")
    .action(async (mode, opts, cmd) => {
      process.exitCode = await modeCommand({ stack: cmd.optsWithGlobals().stack, mode, ...opts });
    });

  program
    .command("recover")
    .description("list pending operations left by an interrupted update; --yes clears them and refreshes")
    .option("--yes", "clear them")
    .action(withStack(recoverCommand));

  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.ok;
  } catch (err) {
    return handleError(err);
  }
}

function handleError(err: unknown): number {
  if (err instanceof CommanderError) {
    // Help and version are not errors; usage mistakes are bad input.
    return err.exitCode === 0 ? EXIT.ok : EXIT.badInput;
  }
  if (err instanceof FleetError) {
    process.stderr.write(`fleet: ${redact(err.message)}\n`);
    if (err instanceof InputError) process.stderr.write("Nothing was changed.\n");
    return err.exitCode;
  }
  if (err instanceof VastError) {
    process.stderr.write(`fleet: ${redact(err.message)}\n`);
    return EXIT.failure;
  }
  // An AWS SDK service error (it carries $metadata): AWS refused or answered garbage; one line, no trace.
  if (err instanceof Error && "$metadata" in err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    process.stderr.write(`fleet: AWS ${err.name}${status ? ` (HTTP ${status})` : ""}: ${redact(err.message.split("\n")[0] ?? "")}\n`);
    return EXIT.failure;
  }
  process.stderr.write(`fleet: unexpected failure: ${redact(err instanceof Error ? (err.stack ?? err.message) : String(err))}\n`);
  return EXIT.failure;
}

/** Entry point: runs the CLI on this process's arguments and sets the exit code. */
export function run(): void {
  main(process.argv).then((code) => {
    process.exitCode = code;
  });
}

if (require.main === module) run();

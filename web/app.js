// Fleet's web page: plain ES module, no dependencies, no build step. Every value from the API is
// put into the page as text (never as HTML). Refreshes itself every REFRESH_MS.
const REFRESH_MS = 5000;
const $ = (id) => document.getElementById(id);
const tokenInput = $("token");
tokenInput.value = sessionStorage.getItem("fleet-token") ?? "";
tokenInput.addEventListener("change", () => sessionStorage.setItem("fleet-token", tokenInput.value.trim()));

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c ?? "")));
  return e;
}
const usd = (x, digits = 2) => (x === null || x === undefined ? "-" : `$${Number(x).toFixed(digits)}`);
const duration = (s) => (s >= 3600 ? `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m` : `${Math.floor(s / 60)}m ${s % 60}s`);

async function api(path, opts = {}) {
  const headers = { Accept: "application/json" };
  if (opts.body !== undefined) headers["Content-Type"] = "application/json";
  if (opts.method === "POST") headers.Authorization = `Bearer ${tokenInput.value.trim()}`;
  const res = await fetch(path, { method: opts.method ?? "GET", headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    const fields = (body.problems ?? []).map((p) => `${p.field}: ${p.message}`).join("; ");
    throw new Error(`${res.status} ${body.error ?? res.statusText}${fields ? ` (${fields})` : ""}`);
  }
  return body;
}

function fillRows(tbody, rows) {
  tbody.replaceChildren(...rows.map((cells) => el("tr", {}, ...cells.map((c) => (c instanceof Node ? el("td", {}, c) : el("td", {}, c))))));
}

/** Polls a job until it ends, showing its progress lines in `out`. */
async function followJob(id, out) {
  for (;;) {
    const job = await api(`/api/jobs/${id}`);
    out.textContent = [...job.lines, job.state === "running" ? "..." : job.state === "succeeded" ? "done" : `failed: ${job.error}`].join("\n");
    if (job.state !== "running") return job;
    await new Promise((r) => setTimeout(r, 400));
  }
}

let shownPlanAt = null;
async function renderPlan() {
  const box = $("plan");
  let plan;
  try {
    plan = await api("/api/plan");
  } catch (e) {
    shownPlanAt = null;
    box.replaceChildren(el("p", { class: "muted" }, String(e.message).startsWith("404") ? "No plan is waiting for review." : e.message));
    $("approve").disabled = $("reject").disabled = true;
    return;
  }
  shownPlanAt = plan.at;
  const changes = (plan.preview?.changes ?? []).filter((c) => c.op !== "same");
  const c = plan.costs ?? {};
  box.replaceChildren(
    el("p", {}, `Plan of ${plan.at} (${plan.source ?? "reconcile"}): ${plan.decisions.length} decision(s), ${changes.length} resource change(s).`),
    el("ul", { id: "plan-decisions" }, ...plan.decisions.map((d) => el("li", { class: `kind-${d.kind}` }, `${d.area} ${d.kind}: ${d.reason}`))),
    el("ul", { id: "plan-changes" }, ...changes.map((ch) => el("li", {}, `${ch.op} ${ch.type} ${ch.urn.split("::").pop()}`))),
    el("p", { id: "plan-cost" }, `cost: ${usd(c.previousHourlyUsd, 4)}/h -> ${usd(c.hourlyUsd, 4)}/h (delta ${usd(c.deltaHourlyUsd, 4)}/h)`),
  );
  $("approve").disabled = $("reject").disabled = false;
}

async function decide(kind) {
  const out = $("plan-result");
  out.textContent = `${kind}...`;
  try {
    if (kind === "approve") {
      const { job } = await api("/api/plan/approve", { method: "POST", body: { planAt: shownPlanAt } });
      const done = await followJob(job, out);
      out.textContent = done.state === "succeeded" ? "applied" : `failed: ${done.error}`;
    } else {
      await api("/api/plan/reject", { method: "POST", body: { planAt: shownPlanAt, reason: "rejected in the web page" } });
      out.textContent = "rejected";
    }
  } catch (e) {
    out.textContent = e.message;
    out.className = "error";
    return;
  }
  out.className = "";
  await refresh();
}
$("approve").addEventListener("click", () => decide("approve"));
$("reject").addEventListener("click", () => decide("reject"));

function renderChart(prices) {
  const box = $("chart");
  const pts = prices.points ?? [];
  if (!pts.length) {
    box.replaceChildren(el("p", { class: "muted" }, prices.pool ? `no recent prices for ${prices.pool}` : "no pool: no price history"));
    return;
  }
  const ns = "http://www.w3.org/2000/svg";
  const t0 = Date.parse(pts[0].at);
  const t1 = Math.max(Date.parse(pts[pts.length - 1].at), t0 + 1);
  const values = pts.map((p) => p.spotHourUsd).concat(prices.forecast ? [prices.forecast.price] : []);
  const lo = Math.min(...values) * 0.95;
  const hi = Math.max(...values) * 1.05 || 1;
  const x = (t) => 10 + ((t - t0) / (t1 - t0)) * 560;
  const y = (v) => 150 - ((v - lo) / (hi - lo || 1)) * 140;
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 600 160");
  svg.setAttribute("id", "price-svg");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", pts.map((p, i) => `${i ? "L" : "M"}${x(Date.parse(p.at)).toFixed(1)},${y(p.spotHourUsd).toFixed(1)}`).join(" "));
  svg.append(path);
  if (prices.forecast) {
    const dot = document.createElementNS(ns, "circle");
    dot.setAttribute("class", "forecast");
    dot.setAttribute("cx", "585");
    dot.setAttribute("cy", y(prices.forecast.price).toFixed(1));
    dot.setAttribute("r", "4");
    svg.append(dot);
  }
  const caption = el("p", { class: "muted" }, `${prices.pool}: ${pts.length} points, last ${usd(pts[pts.length - 1].spotHourUsd, 4)}/h` + (prices.forecast ? `; forecast in ${prices.forecast.horizonHours} h ${usd(prices.forecast.price, 4)}/h (${prices.forecast.method}, volatility ${prices.forecast.volatility.toFixed(3)})` : ""));
  box.replaceChildren(svg, caption);
}

async function renderStatus() {
  const s = await api("/api/status");
  $("stack").textContent = `stack ${s.stack}`;
  const badge = $("gpu-badge");
  badge.className = `badge ${s.standby.connected ? "green" : "red"}`;
  badge.textContent = s.standby.connected ? "GPU: connected" : "GPU: none";
  const spent = s.spend.burstUsd;
  const pct = s.spend.dailyBudgetUsd > 0 ? Math.min(100, (spent / s.spend.dailyBudgetUsd) * 100) : 100;
  $("spend-fill").style.width = `${pct}%`;
  $("spend-fill").className = spent > s.spend.dailyBudgetUsd ? "over" : "";
  $("spend-text").textContent = `spend today ${usd(s.spend.totalUsd)} (burst ${usd(spent)} of ${usd(s.spend.dailyBudgetUsd)} budget)`;
  fillRows($("burst").tBodies[0], s.burst.vms.map((v) => [v.name, v.zone, v.machineType, duration(v.uptimeS), usd(v.costUsd, 3)]));
  if (s.pool) {
    $("pool").textContent = `${s.pool.key} (${s.pool.market}) at ${usd(s.pool.hourUsd, 4)}/h since ${s.pool.since}; mode ${s.modes.pool.mode}`;
    $("switches").replaceChildren(...s.pool.switches.map((d) => el("li", {}, `${d.at} ${d.kind}: ${d.reason}`)));
  } else {
    $("pool").textContent = "no pool instance";
    $("switches").replaceChildren();
  }
  const standbyText = (sb) => (sb.target === "vast" ? `Vast ${sb.instanceId ? `#${sb.instanceId} (${sb.status ?? "?"})` : `offer ${sb.offerId}`} ${usd(sb.dphUsd, 3)}/h` : `${sb.machineType} ${sb.region}`);
  fillRows($("pairs").tBodies[0], s.standby.pairs.map((p) => [p.pairId, p.state, p.gpu.instanceId ? `${p.gpu.gpuName} #${p.gpu.instanceId} (${p.gpu.status})` : (p.gpu.gpuName ?? "-"), standbyText(p.standby), p.lastSyncAt ?? "unknown", usd(p.costSoFarUsd)]));
  fillRows($("hpc").tBodies[0], s.hpc ? s.hpc.nodes.map((n) => [n.name, n.role, n.state, n.vcpu ?? "-", n.memoryMiB ? `${n.memoryMiB} MiB` : "-", n.ip ?? "-"]) : []);
  const prices = await api("/api/prices").catch(() => ({ points: [] }));
  renderChart(prices);
  const { decisions } = await api("/api/decisions?limit=10");
  $("decisions").replaceChildren(...decisions.map((d) => el("li", { class: `kind-${d.kind}` }, `${d.at} ${d.area} ${d.kind}: ${d.reason}`)));
}

async function refresh() {
  try {
    await Promise.all([renderStatus(), renderPlan()]);
    $("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
    $("updated").className = "muted";
  } catch (e) {
    $("updated").textContent = `refresh failed: ${e.message}`;
    $("updated").className = "error";
  }
}

// Offer search and boot.
$("open-offers").addEventListener("click", () => $("offers-dialog").showModal());
$("search").addEventListener("click", async () => {
  const q = new URLSearchParams();
  if ($("gpu-ram-min").value) q.set("gpuRamMin", $("gpu-ram-min").value);
  if ($("max-price").value) q.set("maxPrice", $("max-price").value);
  const out = $("boot-progress");
  out.textContent = "searching...";
  try {
    const { offers } = await api(`/api/gpu/offers?${q}`);
    out.textContent = `${offers.length} offer(s)`;
    fillRows($("offers").tBodies[0], offers.map((o) => [String(o.id), `${o.numGpus}x ${o.gpuName}`, `${Math.round(o.gpuRamGb)} GB`, usd(o.dphUsd, 4), o.reliability.toFixed(3), o.geolocation, el("button", { type: "button", "data-offer": String(o.id), onclick: () => boot(o.id) }, "Boot")]));
  } catch (e) {
    out.textContent = e.message;
  }
});
async function boot(offerId) {
  const out = $("boot-progress");
  out.textContent = `booting offer ${offerId}...`;
  try {
    const { job } = await api("/api/gpu/boot", { method: "POST", body: { offerId } });
    await followJob(job, out);
  } catch (e) {
    out.textContent = e.message;
  }
  await refresh();
}

refresh();
setInterval(refresh, REFRESH_MS);

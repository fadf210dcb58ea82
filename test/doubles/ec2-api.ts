import * as http from "node:http";

/**
 * A local HTTP server that speaks the EC2 Query API for DescribeSpotPriceHistory and
 * DescribeInstanceTypes, with responses in the documented XML shapes, pagination by NextToken,
 * and optional injected failures (status + EC2 error code) for the next N calls.
 */
export interface SpotItem {
  az: string;
  type: string;
  product: string;
  price: string;
  at: string;
}
export interface TypeItem {
  type: string;
  vcpu: number;
  memMiB: number;
  gpus?: number;
}

export interface InstanceItem {
  id: string;
  az: string;
  type: string;
  state: string;
  tags: Record<string, string>;
}

export class Ec2Double {
  calls: Record<string, string>[] = [];
  /** Instances for DescribeInstances (filtered by tag:managed-by and state) and TerminateInstances. */
  instances: InstanceItem[] = [];
  failures: { status: number; code: string }[] = [];
  pageSize = 2;
  private server?: http.Server;

  constructor(public spot: SpotItem[], public types: TypeItem[]) {}

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => this.handle(Object.fromEntries(new URLSearchParams(body)), res));
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    const a = this.server.address() as { port: number };
    return `http://127.0.0.1:${a.port}`;
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server?.close(() => r()));
  }

  private handle(p: Record<string, string>, res: http.ServerResponse): void {
    this.calls.push(p);
    const fail = this.failures.shift();
    if (fail) {
      res.writeHead(fail.status, { "content-type": "text/xml" });
      res.end(`<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${fail.code}</Code><Message>injected ${fail.code}</Message></Error></Errors><RequestID>req-fail</RequestID></Response>`);
      return;
    }
    const start = Number(p.NextToken ?? "0");
    const xml = (action: string, set: string, items: string[], total: number) => {
      const next = start + this.pageSize < total ? `<nextToken>${start + this.pageSize}</nextToken>` : "";
      return `<?xml version="1.0" encoding="UTF-8"?><${action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-${this.calls.length}</requestId><${set}>${items.join("")}</${set}>${next}</${action}Response>`;
    };
    res.writeHead(200, { "content-type": "text/xml;charset=UTF-8" });
    if (p.Action === "DescribeSpotPriceHistory") {
      const products = Object.entries(p).filter(([k]) => k.startsWith("ProductDescription.")).map(([, v]) => v);
      const matching = this.spot.filter((s) => !products.length || products.includes(s.product));
      const items = matching.slice(start, start + this.pageSize).map((s) => `<item><instanceType>${s.type}</instanceType><productDescription>${s.product}</productDescription><spotPrice>${s.price}</spotPrice><timestamp>${s.at}</timestamp><availabilityZone>${s.az}</availabilityZone></item>`);
      res.end(xml("DescribeSpotPriceHistory", "spotPriceHistorySet", items, matching.length));
    } else if (p.Action === "DescribeInstanceTypes") {
      const items = this.types.slice(start, start + this.pageSize).map((t) => `<item><instanceType>${t.type}</instanceType><vCpuInfo><defaultVCpus>${t.vcpu}</defaultVCpus></vCpuInfo><memoryInfo><sizeInMiB>${t.memMiB}</sizeInMiB></memoryInfo>${t.gpus ? `<gpuInfo><gpus><item><count>${t.gpus}</count><name>A10G</name></item></gpus></gpuInfo>` : ""}</item>`);
      res.end(xml("DescribeInstanceTypes", "instanceTypeSet", items, this.types.length));
    } else if (p.Action === "DescribeInstances") {
      // Filter.N.Name / Filter.N.Value.M, as the SDK sends them.
      const filters = new Map<string, string[]>();
      for (const [k, v] of Object.entries(p)) {
        const m = /^Filter\.(\d+)\.Name$/.exec(k);
        if (m) filters.set(v, Object.entries(p).filter(([k2]) => k2.startsWith(`Filter.${m[1]}.Value.`)).map(([, x]) => x));
      }
      const matching = this.instances.filter((i) => [...filters].every(([name, values]) => (name === "instance-state-name" ? values.includes(i.state) : name.startsWith("tag:") ? values.includes(i.tags[name.slice(4)] ?? "") : true)));
      const items = matching.slice(start, start + this.pageSize).map((i) => `<item><reservationId>r-${i.id}</reservationId><instancesSet><item><instanceId>${i.id}</instanceId><instanceType>${i.type}</instanceType><instanceState><code>16</code><name>${i.state}</name></instanceState><placement><availabilityZone>${i.az}</availabilityZone></placement><tagSet>${Object.entries(i.tags).map(([k, v]) => `<item><key>${k}</key><value>${v}</value></item>`).join("")}</tagSet></item></instancesSet></item>`);
      res.end(xml("DescribeInstances", "reservationSet", items, matching.length));
    } else if (p.Action === "TerminateInstances") {
      const ids = Object.entries(p).filter(([k]) => k.startsWith("InstanceId.")).map(([, v]) => v);
      for (const i of this.instances) if (ids.includes(i.id)) i.state = "terminated";
      res.end(`<?xml version="1.0" encoding="UTF-8"?><TerminateInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-t</requestId><instancesSet>${ids.map((id) => `<item><instanceId>${id}</instanceId><currentState><code>32</code><name>shutting-down</name></currentState></item>`).join("")}</instancesSet></TerminateInstancesResponse>`);
    } else {
      res.writeHead(400);
      res.end(`<Response><Errors><Error><Code>InvalidAction</Code><Message>${p.Action}</Message></Error></Errors></Response>`);
    }
  }
}

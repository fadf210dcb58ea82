import * as http from "node:http";

/**
 * A local server for AWS JSON 1.0 services (SQS, CloudWatch): dispatches on the X-Amz-Target
 * header to a handler that returns the documented response shape; records every call.
 */
export class AwsJsonDouble {
  calls: { target: string; body: any }[] = [];
  private server?: http.Server;
  constructor(private readonly handlers: Record<string, (body: any) => unknown>) {}

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      let raw = "";
      req.on("data", (c) => (raw += c));
      req.on("end", () => {
        const target = String(req.headers["x-amz-target"] ?? "");
        const op = target.split(".").pop() ?? "";
        const body = raw ? JSON.parse(raw) : {};
        this.calls.push({ target, body });
        const handler = this.handlers[op];
        res.setHeader("content-type", "application/x-amz-json-1.0");
        if (!handler) {
          res.statusCode = 400;
          res.end(JSON.stringify({ __type: "com.amazon.coral.service#UnknownOperationException", message: op }));
          return;
        }
        res.end(JSON.stringify(handler(body)));
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server?.close(() => r()));
  }
}

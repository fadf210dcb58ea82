// The Compute Engine metadata server, for the paths Fleet's credentials use
// (https://cloud.google.com/compute/docs/metadata/querying-metadata and
// https://cloud.google.com/compute/docs/access/authenticate-workloads#applications):
// every request must carry `Metadata-Flavor: Google` (else 403) and every answer carries it back
// (the gcp-metadata client checks it); the default service account's token is JSON
// {access_token, expires_in, token_type: "Bearer"}; each token issued is registered with the GCP
// double's credential judge, so it is accepted until it expires there too.
import * as http from "node:http";
import { randomBytes } from "node:crypto";
import type { GcpCredentialJudge } from "./gcp-credentials";

export class GceMetadataServer {
  tokenRequests = 0;
  private server?: http.Server;
  constructor(
    private readonly judge: GcpCredentialJudge,
    private readonly project: string,
    /** Lifetime of each issued token, as the real server gives (about an hour). */
    readonly ttlSeconds = 3599,
  ) {}

  /** host:port, as GCE_METADATA_HOST takes it. */
  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const send = (status: number, body: string, type = "application/text") => {
        res.writeHead(status, { "Metadata-Flavor": "Google", "content-type": type });
        res.end(body);
      };
      if (req.headers["metadata-flavor"] !== "Google") return send(403, "Missing required header: Metadata-Flavor");
      const url = new URL(req.url ?? "/", "http://metadata");
      if (url.pathname === "/computeMetadata/v1/instance/service-accounts/default/token") {
        this.tokenRequests++;
        const token = `ya29.metadata-${randomBytes(12).toString("hex")}`;
        this.judge.acceptToken(token, Date.now() + this.ttlSeconds * 1000);
        return send(
          200,
          JSON.stringify({ access_token: token, expires_in: this.ttlSeconds, token_type: "Bearer" }),
          "application/json",
        );
      }
      if (url.pathname === "/computeMetadata/v1/project/project-id") return send(200, this.project);
      if (url.pathname === "/computeMetadata/v1/instance" || url.pathname === "/computeMetadata/v1/")
        return send(200, "");
      send(404, "Not Found");
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    return `127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  stop(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

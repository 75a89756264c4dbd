// s3rver ignores `If-None-Match: *` on PUT (it always overwrites) and `If-Match: <etag>` on PUT and
// DELETE. AWS S3 answers such a PUT on an existing key with 412 PreconditionFailed, and a PUT or DELETE
// with If-Match with 412 when the ETag differs (404 NoSuchKey when the object is gone). S3's PUT is also
// atomic: a GET sees the old object or the new one, whole. s3rver truncates the object's file and writes
// it in place, so a GET during a PUT can read it empty or cut short (seen: a lock read while its holder
// refreshed it was unreadable, and another run took it over). This proxy sits in front of s3rver and adds
// exactly that documented behaviour: the requests on one key run one at a time, and the conditional ones
// are checked first, so the S3 backend's createIfAbsent and compare-and-swap paths are tested against
// real HTTP responses.
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import type { S3Client } from "@aws-sdk/client-s3";
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface ConditionalPutProxy {
  readonly endpoint: string;
  stop(): Promise<void>;
}

export async function startConditionalPutProxy(
  target: string,
  client: S3Client,
): Promise<ConditionalPutProxy> {
  const upstream = new URL(target);
  /** Per bucket and key (path-style URL: /<bucket>/<key>), the end of the last request queued on it. */
  const tails = new Map<string, Promise<void>>();

  /** Ends an exchange the proxy could not complete (upstream unreachable, or the ETag check failed). */
  const badGateway = (res: http.ServerResponse): void => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  };

  const forward = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const proxied = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (response) => {
        res.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(res);
      },
    );
    proxied.on("error", () => badGateway(res));
    req.pipe(proxied);
  };

  const fail = (req: http.IncomingMessage, res: http.ServerResponse, status: number, code: string) => {
    req.resume();
    res.writeHead(status, { "content-type": "application/xml" });
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code>` +
        (code === "PreconditionFailed"
          ? "<Message>At least one of the pre-conditions you specified did not hold</Message>"
          : "<Message>The specified key does not exist.</Message>") +
        "</Error>",
    );
  };

  /** Answers `req`: a conditional write is checked against the object's ETag, anything else forwarded. */
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, slot: string) => {
    const noneMatch = req.method === "PUT" ? req.headers["if-none-match"] : undefined;
    const ifMatch = req.method === "PUT" || req.method === "DELETE" ? req.headers["if-match"] : undefined;
    if (noneMatch === "*" || ifMatch !== undefined) {
      const [, bucket = "", ...key] = decodeURIComponent(slot).split("/");
      const etag = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key.join("/") })).then(
        (head) => head.ETag ?? "",
        () => undefined,
      );
      if (noneMatch === "*" && etag !== undefined) return fail(req, res, 412, "PreconditionFailed");
      if (ifMatch !== undefined && etag === undefined) return fail(req, res, 404, "NoSuchKey");
      if (ifMatch !== undefined && ifMatch !== "*" && ifMatch !== etag) {
        return fail(req, res, 412, "PreconditionFailed");
      }
    }
    forward(req, res);
  };

  const server = http.createServer((req, res) => {
    // Registered at once: "close" comes however the exchange ends (answered, client gone while queued,
    // upstream error), so the key's queue never waits on an exchange that is over.
    const ended = new Promise<void>((resolve) => res.on("close", resolve));
    // The URL's path (path-style: /<bucket>/<key>, still encoded) names the key.
    const slot = new URL(req.url ?? "/", target).pathname;
    const turn = (tails.get(slot) ?? Promise.resolve())
      .then(() => handle(req, res, slot))
      .catch(() => badGateway(res))
      .then(() => ended);
    tails.set(slot, turn);
    void turn.then(() => {
      if (tails.get(slot) === turn) tails.delete(slot);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

// s3rver ignores `If-None-Match: *` on PUT (it always overwrites) and `If-Match: <etag>` on PUT and
// DELETE. AWS S3 answers such a PUT on an existing key with 412 PreconditionFailed, and a PUT or DELETE
// with If-Match with 412 when the ETag differs (404 NoSuchKey when the object is gone). This proxy sits
// in front of s3rver and adds exactly that documented behaviour, so the S3 backend's createIfAbsent
// and compare-and-swap paths are tested against real HTTP responses.
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
  let queue: Promise<unknown> = Promise.resolve(); // conditional PUTs run one at a time: check + put is atomic

  const forward = (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> =>
    new Promise((resolve) => {
      // "close" comes however the exchange ends (finished, client gone, upstream error): the queue of
      // conditional writes never waits on an exchange that is over.
      res.on("close", resolve);
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
      proxied.on("error", () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      req.pipe(proxied);
    });

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

  const server = http.createServer((req, res) => {
    const noneMatch = req.method === "PUT" ? req.headers["if-none-match"] : undefined;
    const ifMatch = req.method === "PUT" || req.method === "DELETE" ? req.headers["if-match"] : undefined;
    if (noneMatch !== "*" && ifMatch === undefined) {
      void forward(req, res);
      return;
    }
    // Conditional writes run one at a time: check + write is atomic, as on S3.
    queue = queue.then(async () => {
      // Path-style URL: /<bucket>/<key>
      const [, bucket = "", ...keyParts] = decodeURIComponent(new URL(req.url ?? "/", target).pathname).split(
        "/",
      );
      const etag = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: keyParts.join("/") })).then(
        (head) => head.ETag ?? "",
        () => undefined,
      );
      if (noneMatch === "*" && etag !== undefined) return fail(req, res, 412, "PreconditionFailed");
      if (ifMatch !== undefined && etag === undefined) return fail(req, res, 404, "NoSuchKey");
      if (ifMatch !== undefined && ifMatch !== "*" && ifMatch !== etag) {
        return fail(req, res, 412, "PreconditionFailed");
      }
      return forward(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

// s3rver ignores `If-None-Match: *` on PUT (it always overwrites). AWS S3 answers such a PUT on an
// existing key with 412 PreconditionFailed. This proxy sits in front of s3rver and adds exactly that
// documented behaviour, so the S3 backend's createExclusive path is tested against real HTTP responses.
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
          response.pipe(res).on("finish", resolve);
        },
      );
      proxied.on("error", () => {
        res.writeHead(502).end();
        resolve();
      });
      req.pipe(proxied);
    });

  const server = http.createServer((req, res) => {
    if (req.method !== "PUT" || req.headers["if-none-match"] !== "*") {
      void forward(req, res);
      return;
    }
    queue = queue.then(async () => {
      // Path-style URL: /<bucket>/<key>
      const [, bucket = "", ...keyParts] = decodeURIComponent(new URL(req.url ?? "/", target).pathname).split(
        "/",
      );
      const exists = await client
        .send(new HeadObjectCommand({ Bucket: bucket, Key: keyParts.join("/") }))
        .then(
          () => true,
          () => false,
        );
      if (!exists) return forward(req, res);
      req.resume();
      res.writeHead(412, { "content-type": "application/xml" });
      res.end(
        '<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code>' +
          "<Message>At least one of the pre-conditions you specified did not hold</Message>" +
          "<Condition>If-None-Match</Condition></Error>",
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * An in-process stand-in for GitHub's `GET /repos/{owner}/{repo}/pulls` as the REST API
 * documents it: bearer auth, `state` and `per_page`/`page`, a `Link` header with rel="next"
 * while pages remain, 401/404 with a JSON `message`.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface PullRequestFixture {
  number: number;
  state: "open" | "closed";
  labels: string[];
}

export interface GitHubEmulator {
  url: string;
  requests: { path: string; authorization: string | undefined }[];
  close(): Promise<void>;
}

export async function startGitHubEmulator(
  repository: string,
  token: string,
  pulls: PullRequestFixture[],
  options: { failWith?: { status: number; body: string } } = {},
): Promise<GitHubEmulator> {
  const requests: GitHubEmulator["requests"] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    requests.push({ path: `${url.pathname}${url.search}`, authorization: req.headers.authorization });
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(typeof body === "string" ? body : JSON.stringify(body));
    };
    if (options.failWith) return reply(options.failWith.status, options.failWith.body);
    if (req.headers.authorization !== `Bearer ${token}`) {
      return reply(401, { message: "Bad credentials", documentation_url: "https://docs.github.com/rest" });
    }
    if (url.pathname !== `/repos/${repository}/pulls`) return reply(404, { message: "Not Found" });
    const state = url.searchParams.get("state") ?? "open";
    const perPage = Number(url.searchParams.get("per_page") ?? 30);
    const page = Number(url.searchParams.get("page") ?? 1);
    const matching = pulls.filter((p) => state === "all" || p.state === state);
    const slice = matching.slice((page - 1) * perPage, page * perPage);
    const headers: Record<string, string> = {};
    if (page * perPage < matching.length) {
      const next = new URL(url.toString());
      next.searchParams.set("page", String(page + 1));
      headers.link = `<${base}${next.pathname}${next.search}>; rel="next", <${base}${url.pathname}?page=1>; rel="first"`;
    }
    reply(
      200,
      slice.map((p) => ({
        number: p.number,
        state: p.state,
        title: `PR ${p.number}`,
        labels: p.labels.map((name, i) => ({ id: i, name, color: "ededed" })),
      })),
      headers,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

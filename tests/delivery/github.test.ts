import { afterEach, describe, expect, it } from "vitest";
import { listOpenPullRequests } from "../../delivery/github";
import { startGitHubEmulator, type GitHubEmulator, type PullRequestFixture } from "./github-emulator";

const REPO = "acme/cdc-pipeline";
const TOKEN = "ghs_test";
let emulator: GitHubEmulator | undefined;

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

describe("listOpenPullRequests", () => {
  it("reads every page of open pull requests with their labels", async () => {
    const pulls: PullRequestFixture[] = Array.from({ length: 230 }, (_, i) => ({
      number: i + 1,
      state: i % 3 === 0 ? "closed" : "open",
      labels: i % 2 === 0 ? ["review-stack"] : [],
    }));
    emulator = await startGitHubEmulator(REPO, TOKEN, pulls);
    const open = await listOpenPullRequests({ repository: REPO, token: TOKEN, apiUrl: `${emulator.url}/` });
    const expected = pulls
      .filter((p) => p.state === "open")
      .map((p) => ({ number: p.number, labels: p.labels }));
    expect(open).toEqual(expected);
    expect(open).toHaveLength(153);
    expect(emulator.requests).toEqual([
      { path: `/repos/${REPO}/pulls?state=open&per_page=100`, authorization: `Bearer ${TOKEN}` },
      { path: `/repos/${REPO}/pulls?state=open&per_page=100&page=2`, authorization: `Bearer ${TOKEN}` },
    ]);
  });

  it("returns nothing for a repository without open pull requests, in one request", async () => {
    emulator = await startGitHubEmulator(REPO, TOKEN, [{ number: 1, state: "closed", labels: [] }]);
    expect(await listOpenPullRequests({ repository: REPO, token: TOKEN, apiUrl: emulator.url })).toEqual([]);
    expect(emulator.requests).toHaveLength(1);
  });

  it.each([
    ["a bad token", { token: "wrong" }, undefined, "HTTP 401: Bad credentials"],
    ["an unknown repository", { repository: "acme/other" }, undefined, "HTTP 404: Not Found"],
    [
      "a server error page",
      {},
      { status: 502, body: "<html>Bad gateway</html>" },
      "HTTP 502: <html>Bad gateway</html>",
    ],
    [
      "a body that is not JSON",
      {},
      { status: 200, body: "<html>maintenance</html>" },
      "the response is not JSON: <html>maintenance</html>",
    ],
    [
      "an unexpected shape",
      {},
      { status: 200, body: '[{"number":"1"}]' },
      "unexpected response at [0].number: Invalid input: expected number, received string",
    ],
  ])("fails on %s, naming the request", async (_what, override, failWith, message) => {
    emulator = await startGitHubEmulator(REPO, TOKEN, [], failWith ? { failWith } : {});
    const repository = (override as { repository?: string }).repository ?? REPO;
    const request = listOpenPullRequests({
      repository,
      token: (override as { token?: string }).token ?? TOKEN,
      apiUrl: emulator.url,
    });
    await expect(request).rejects.toThrow(
      `GitHub API GET ${emulator.url}/repos/${repository}/pulls?state=open&per_page=100: ${message}`,
    );
  });

  it("refuses a repository that is not owner/name before any request", async () => {
    await expect(listOpenPullRequests({ repository: "cdc-pipeline", token: TOKEN })).rejects.toThrow(
      'repository must be owner/name (got "cdc-pipeline")',
    );
  });

  it("gives up on a server that does not answer within the timeout", async () => {
    const { createServer } = await import("node:net");
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      await expect(
        listOpenPullRequests({
          repository: REPO,
          token: TOKEN,
          apiUrl: `http://127.0.0.1:${port}`,
          timeoutMs: 200,
        }),
      ).rejects.toThrow(/aborted due to timeout/);
    } finally {
      silent.close();
    }
  });
});

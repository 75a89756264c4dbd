/** The open pull requests of a repository, from the GitHub REST API (all pages). */
import { z } from "zod";
import type { OpenPullRequest } from "./sweep";
import { issueAt } from "./validation";

const pullsSchema = z.array(
  z.object({
    number: z.number().int().positive(),
    state: z.string(),
    labels: z.array(z.object({ name: z.string() })),
  }),
);

export interface GitHubOptions {
  /** `owner/name`. */
  repository: string;
  token: string;
  /** Defaults to https://api.github.com (GITHUB_API_URL on Actions runners, also for GHES). */
  apiUrl?: string;
  /** Per request. Defaults to 30 s. */
  timeoutMs?: number;
}

function nextPage(link: string | null): string | undefined {
  return link
    ?.split(",")
    .map((part) => /<([^>]+)>\s*;\s*rel="next"/.exec(part))
    .find((match) => match)?.[1];
}

export async function listOpenPullRequests(options: GitHubOptions): Promise<OpenPullRequest[]> {
  if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(options.repository)) {
    throw new Error(`repository must be owner/name (got ${JSON.stringify(options.repository)})`);
  }
  const base = (options.apiUrl ?? "https://api.github.com").replace(/\/+$/, "");
  let url: string | undefined = `${base}/repos/${options.repository}/pulls?state=open&per_page=100`;
  const open: OpenPullRequest[] = [];
  while (url) {
    const response = await fetch(url, {
      headers: {
        accept: "application/vnd.github+json",
        authorization: `Bearer ${options.token}`,
        "x-github-api-version": "2022-11-28",
      },
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
    });
    const body = await response.text();
    if (!response.ok) {
      let message = body.slice(0, 200);
      try {
        message = (JSON.parse(body) as { message?: string }).message ?? message;
      } catch {
        // not JSON: keep the text
      }
      throw new Error(`GitHub API GET ${url}: HTTP ${response.status}: ${message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      throw new Error(`GitHub API GET ${url}: the response is not JSON: ${body.slice(0, 200)}`);
    }
    const page = pullsSchema.safeParse(json);
    if (!page.success) {
      throw new Error(`GitHub API GET ${url}: unexpected response at ${issueAt(page.error.issues[0]!)}`);
    }
    for (const pr of page.data) {
      if (pr.state === "open") open.push({ number: pr.number, labels: pr.labels.map((l) => l.name) });
    }
    url = nextPage(response.headers.get("link"));
  }
  return open;
}

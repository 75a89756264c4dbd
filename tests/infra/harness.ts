// Runs infra/index.ts under Pulumi mocks with a given stack config and returns every registered
// resource (type, name, inputs, URN, provider) and the stack outputs. One run per process:
// Pulumi's runtime state is global, so each scenario is its own test file.
import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "node:fs";
import * as path from "node:path";

export const ROOT = path.resolve(__dirname, "../..");
export const ACCOUNT = "123456789012";
export const REGION = "eu-west-1";

/** Values the mocks hand out as secrets; none may appear unwrapped in any resource input. */
export const SECRET_VALUES = {
  masterPassword: "mock-master-password-5f1c",
  randomPassword: "mock-random-password-93ab",
  ecrToken: "mock-ecr-token-77de",
};

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

export interface Recorded {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  urn: string;
  /** Type of the parent resource, from the URN (`undefined` at the root). */
  parentType?: string;
  provider?: string;
  custom: boolean;
  /** Resource options as the engine receives them. */
  protect: boolean;
  deletedWith: string;
  dependencies: string[];
  ignoreChanges: string[];
  /** Input property -> URNs it depends on. */
  propertyDependencies: Record<string, string[]>;
}

interface RegisterRequest {
  getPropertydependenciesMap(): {
    forEach(f: (value: { getUrnsList(): string[] }, key: string) => void): void;
  };
  getType(): string;
  getName(): string;
  getProtect(): boolean | undefined;
  getDeletedwith(): string;
  getDependenciesList(): string[];
  getIgnorechangesList(): string[];
}

type ResourceOptionsSeen = Pick<
  Recorded,
  "protect" | "deletedWith" | "dependencies" | "ignoreChanges" | "propertyDependencies"
>;

export interface StackRun {
  resources: Recorded[];
  outputs: Record<string, unknown>;
  /** Resources of a type. */
  ofType(type: string): Recorded[];
  /** The one resource of a type and name; throws when absent. */
  one(type: string, name: string): Recorded;
  /** `{ type: count }` over custom and component resources. */
  counts(): Record<string, number>;
}

/** Reads `config:` of a Pulumi.<stack>.yaml whose values are scalars or JSON flow collections. */
export function readStackFile(stack: string): Record<string, string> {
  const text = readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8");
  const config: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = /^ {2}([A-Za-z0-9-]+:[A-Za-z0-9]+): (.*)$/.exec(line);
    if (!match) continue;
    const [, key, raw] = match as unknown as [string, string, string];
    const value = raw.trim();
    config[key] = /^"(.*)"$/.test(value) ? value.slice(1, -1) : value;
  }
  return config;
}

function computedState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  const arn = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${resource}`;
  switch (type) {
    case "aws:rds/instance:Instance":
      return {
        address: `${String(inputs.identifier)}.abc.${REGION}.rds.amazonaws.com`,
        port: 5432,
        arn: arn("rds", `db:${String(inputs.identifier)}`),
        masterUserSecrets: [{ secretArn: arn("secretsmanager", "secret:rds!db-master-AbCdEf") }],
      };
    case "aws:msk/cluster:Cluster":
    case "aws:msk/serverlessCluster:ServerlessCluster":
      return {
        arn: arn("kafka", `cluster/${String(inputs.clusterName)}/0a1b2c3d-uuid-1`),
        bootstrapBrokersSaslIam:
          "b-1.mock.kafka.eu-west-1.amazonaws.com:9098,b-2.mock.kafka.eu-west-1.amazonaws.com:9098",
      };
    case "aws:msk/configuration:Configuration":
      return { arn: arn("kafka", `configuration/${name}/1`), latestRevision: 1 };
    case "aws:s3/bucket:Bucket": {
      const bucket = String(inputs.bucket ?? `${String(inputs.bucketPrefix ?? name)}4f2a9c`);
      return { bucket, arn: `arn:aws:s3:::${bucket}` };
    }
    case "aws:ecr/repository:Repository":
      return {
        repositoryUrl: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${name}`,
        registryId: ACCOUNT,
        arn: arn("ecr", `repository/${name}`),
      };
    case "docker:index/image:Image":
      return { repoDigest: `${String(inputs.imageName).split(":")[0]}@sha256:${"ab".repeat(32)}` };
    case "aws:lb/loadBalancer:LoadBalancer":
      return {
        dnsName: `internal-${name}.${REGION}.elb.amazonaws.com`,
        arn: arn("elasticloadbalancing", `loadbalancer/app/${name}`),
      };
    case "aws:ecs/cluster:Cluster":
      return { name: `${name}-7e1`, arn: arn("ecs", `cluster/${name}-7e1`) };
    case "aws:ecs/taskDefinition:TaskDefinition":
      return { arn: arn("ecs", `task-definition/${String(inputs.family)}:1`) };
    case "aws:ecs/service:Service":
      return { name: `${name}-9d2` };
    case "aws:iam/role:Role":
      return { arn: `arn:aws:iam::${ACCOUNT}:role/${name}`, name };
    case "aws:secretsmanager/secret:Secret":
      // AWS completes a namePrefix with a unique suffix.
      return {
        arn: arn("secretsmanager", `secret:${name}-Xy12Zw`),
        name: `${String(inputs.name ?? inputs.namePrefix ?? name)}Xy12Zw`,
      };
    case "random:index/randomPassword:RandomPassword":
      return { result: SECRET_VALUES.randomPassword };
    case "aws:cloudwatch/logGroup:LogGroup":
      return { arn: arn("logs", `log-group:${String(inputs.name)}`) };
    case "aws:sqs/queue:Queue":
      return {
        arn: arn("sqs", name),
        name,
        url: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${name}`,
      };
    case "aws:scheduler/schedule:Schedule":
      return { name: `${String(inputs.namePrefix)}20261125` };
    case "aws:ec2/vpc:Vpc":
      return { cidrBlock: inputs.cidrBlock };
    default:
      return { arn: arn("mock", `${type}/${name}`), name: inputs.name ?? name };
  }
}

const invokes: Record<string, (inputs: Record<string, string>) => Record<string, unknown>> = {
  "aws:index/getAvailabilityZones:getAvailabilityZones": () => ({
    names: ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
    zoneIds: ["euw1-az1", "euw1-az2", "euw1-az3"],
  }),
  "aws:index/getCallerIdentity:getCallerIdentity": () => ({
    accountId: ACCOUNT,
    arn: `arn:aws:iam::${ACCOUNT}:user/ci`,
    userId: "AIDA",
  }),
  "aws:ec2/getPrefixList:getPrefixList": (i) => ({
    id: "pl-6da54004",
    name: i.name,
    cidrBlocks: ["52.218.0.0/17"],
  }),
  "aws:ec2/getVpc:getVpc": (i) => ({ id: i.id, cidrBlock: "10.9.0.0/16" }),
  "aws:ecr/getAuthorizationToken:getAuthorizationToken": () => ({
    userName: "AWS",
    password: SECRET_VALUES.ecrToken,
    proxyEndpoint: `https://${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`,
  }),
  "aws:secretsmanager/getSecretVersion:getSecretVersion": (i) => ({
    arn: i.secretId,
    secretString: JSON.stringify({ username: "cdc_admin", password: SECRET_VALUES.masterPassword }),
  }),
  "aws:ssm/getParameter:getParameter": (i) => ({
    name: i.name,
    value: "ami-0123456789abcdef0",
    type: "String",
  }),
};

/** Run the program under mocks. `config` keys are full (`cdc-pipeline:x`, `aws:region`). */
export async function runStack(stack: string, config: Record<string, string>): Promise<StackRun> {
  const recorded = new Map<string, Omit<Recorded, "urn" | "parentType" | keyof ResourceOptionsSeen>>();
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        if (recorded.has(`${args.type}::${args.name}`))
          throw new Error(`duplicate ${args.type} ${args.name}`);
        recorded.set(`${args.type}::${args.name}`, {
          type: args.type,
          name: args.name,
          inputs: args.inputs,
          provider: args.provider,
          custom: args.custom ?? false,
        });
        return {
          id: `${args.name}-id`,
          state: { ...computedState(args.type, args.name, args.inputs), ...args.inputs },
        };
      },
      call(args) {
        const answer = invokes[args.token];
        if (!answer) throw new Error(`unmocked invoke ${args.token}`);
        return answer(args.inputs);
      },
    },
    "cdc-pipeline",
    stack,
    false,
  );
  // Resource options (protect, deletedWith, dependsOn) only reach the monitor: watch its requests.
  const options = new Map<string, ResourceOptionsSeen>();
  const mockMonitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(req: RegisterRequest, cb: unknown): Promise<void>;
  };
  const register = mockMonitor.registerResource.bind(mockMonitor);
  mockMonitor.registerResource = (req, cb) => {
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((value, key) => {
      propertyDependencies[key] = value.getUrnsList();
    });
    options.set(`${req.getType()}::${req.getName()}`, {
      propertyDependencies,
      protect: req.getProtect() ?? false,
      deletedWith: req.getDeletedwith(),
      dependencies: req.getDependenciesList(),
      ignoreChanges: req.getIgnorechangesList(),
    });
    return register(req, cb);
  };
  pulumi.runtime.setAllConfig(config);
  const program = (await import("../../infra/index.js")) as Record<string, unknown>;
  const outputs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(program)) {
    outputs[key] = pulumi.Output.isInstance(value) ? await new Promise((r) => value.apply(r)) : value;
  }
  await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    getRegisteredResources(): Map<string, { urn: string }>;
  };
  const resources: Recorded[] = [];
  for (const { urn } of monitor.getRegisteredResources().values()) {
    const [, , qualifiedType, name] = urn.split("::") as [string, string, string, string];
    const chain = qualifiedType.split("$");
    const type = chain[chain.length - 1] as string;
    const entry = recorded.get(`${type}::${name}`);
    if (!entry) throw new Error(`registered but not recorded: ${urn}`);
    const seen = options.get(`${type}::${name}`);
    if (!seen) throw new Error(`registered without options: ${urn}`);
    resources.push({
      ...entry,
      ...seen,
      urn,
      parentType: chain.length > 1 ? chain[chain.length - 2] : undefined,
    });
  }
  return {
    resources,
    outputs,
    ofType: (type) => resources.filter((r) => r.type === type),
    one(type, name) {
      const found = resources.find((r) => r.type === type && r.name === name);
      if (!found) throw new Error(`no ${type} named ${name}`);
      return found;
    },
    counts() {
      const counts: Record<string, number> = {};
      for (const r of resources) counts[r.type] = (counts[r.type] ?? 0) + 1;
      return counts;
    },
  };
}

/** Unwrap a mock secret (`{ <sig>: ..., value }`) or return the value as is. */
export function reveal(value: unknown): unknown {
  if (value && typeof value === "object" && SECRET_SIG in (value as object)) {
    return (value as { value: unknown }).value;
  }
  return value;
}

export function isSecret(value: unknown): boolean {
  return Boolean(value && typeof value === "object" && SECRET_SIG in (value as object));
}

/** Paths of plain (non-secret) strings in `inputs` that contain one of `needles`. */
export function plaintextLeaks(inputs: unknown, needles: string[], at = ""): string[] {
  if (isSecret(inputs)) return [];
  if (typeof inputs === "string") return needles.some((n) => inputs.includes(n)) ? [at] : [];
  if (Array.isArray(inputs)) return inputs.flatMap((v, i) => plaintextLeaks(v, needles, `${at}[${i}]`));
  if (inputs && typeof inputs === "object") {
    return Object.entries(inputs).flatMap(([k, v]) => plaintextLeaks(v, needles, at ? `${at}.${k}` : k));
  }
  return [];
}

/** Parse a JSON-string input (policies, container definitions), unwrapping a secret first. */
export function json<T>(value: unknown): T {
  const v = reveal(value);
  if (typeof v !== "string") throw new Error(`expected a JSON string, got ${JSON.stringify(v)}`);
  return JSON.parse(v) as T;
}

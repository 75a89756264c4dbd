// The zod schema of the stack config keys. Values arrive as strings (Pulumi stores structured
// values as JSON text), so each key parses its string and states the rule it enforces.
import { z } from "zod";
import { PIPELINE_DEFAULTS } from "../connectors/config";
import { MAX_GAP_MINUTES, scheduleGapMinutes } from "./schedule-interval";
import { vpcCidrProblem } from "./vpc-cidr";

const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

// Exactly `true` or `false`, as Pulumi's own `config.getBoolean` and the delivery scripts read them:
// a `yes` that one reader takes for true and another for a string would mean two things.
const flag = z.stringbool({
  truthy: ["true"],
  falsy: ["false"],
  case: "sensitive",
  error: "must be true or false",
});

const jsonOf = <T extends z.ZodType>(schema: T) =>
  z
    .string()
    .transform((text, ctx): unknown => {
      try {
        return JSON.parse(text);
      } catch {
        ctx.addIssue({ code: "custom", message: "must be a YAML/JSON value, not plain text" });
        return z.NEVER;
      }
    })
    .pipe(schema);

/** A string matching `pattern`; one message for a wrong type or shape, "required" when absent. */
const text = (pattern: RegExp, message: string) =>
  z.string({ error: (issue) => (issue.input === undefined ? "required" : message) }).regex(pattern, message);

const awsId = (prefix: string) => text(new RegExp(`^${prefix}-[0-9a-f]{8,17}$`), `must be a ${prefix}-… id`);
const arn = (service: string, label: string) =>
  text(new RegExp(`^arn:aws[a-z-]*:${service}:`), `must be ${label} ARN (arn:aws:${service}:…)`);
const hostPort = z
  .string()
  .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, "must be host:port, e.g. localhost:15432")
  .transform((v) => {
    const [host, port] = v.split(":");
    return { host: host as string, port: Number(port) };
  });

/** Defaults that validation rules also depend on (the rest live in config.ts). */
export const DEFAULTS = {
  availabilityZoneCount: 2,
  rdsAllocatedStorageGb: 50,
  rdsMaxAllocatedStorageGb: 200,
  kafkaBrokersPerAz: 1,
  connectDesiredCount: 2,
  connectMinCount: 1,
  connectMaxCount: 4,
  connectCpu: 1024,
  connectMemory: 4096,
  analyticsCpu: 1024,
  analyticsMemory: 4096,
  topicsDir: PIPELINE_DEFAULTS.topicsDir,
  analyticsPrefix: "analytics",
} as const;

/** CloudWatch Logs accepts only these retention periods. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** Fargate's valid memory sizes (MiB) for a CPU size (units). */
export function fargateMemoryOptions(cpu: number): number[] {
  const range = (from: number, to: number, step: number) =>
    Array.from({ length: (to - from) / step + 1 }, (_, i) => from + i * step);
  const table: Record<number, number[]> = {
    256: [512, 1024, 2048],
    512: range(1024, 4096, 1024),
    1024: range(2048, 8192, 1024),
    2048: range(4096, 16384, 1024),
    4096: range(8192, 30720, 1024),
    8192: range(16384, 61440, 4096),
    16384: range(32768, 122880, 8192),
  };
  return table[cpu] ?? [];
}

const fargateCpu = z
  .string()
  .regex(
    /^(256|512|1024|2048|4096|8192|16384)$/,
    "must be a Fargate CPU size: 256, 512, 1024, 2048, 4096, 8192 or 16384",
  )
  .transform(Number);

const ROTATE_MINUTES =
  "must be a whole number of minutes from 1 to 1440 (one day), or 0 to turn scheduled rotation off";

const fields = {
  ephemeral: flag,
  tags: jsonOf(
    z.record(
      z.string(),
      z.string("tag values must be strings"),
      "must be a map of tag names to string values",
    ),
  ),
  logRetentionDays: wholeNumber(1, 3653).refine((d) => LOG_RETENTION_DAYS.includes(d), {
    message: `must be one of CloudWatch's retention periods: ${LOG_RETENTION_DAYS.join(", ")}`,
  }),
  // network
  vpcCidr: z.string().superRefine((cidr, ctx) => {
    const problem = vpcCidrProblem(cidr);
    if (problem) ctx.addIssue({ code: "custom", message: problem, input: cidr });
  }),
  availabilityZoneCount: wholeNumber(2, 3),
  existingVpcId: awsId("vpc"),
  existingPrivateSubnetIds: jsonOf(
    z
      .array(awsId("subnet"), "must be a list of subnet ids")
      .min(2, "must list at least two subnets in different AZs"),
  ),
  existingPrivateRouteTableIds: jsonOf(z.array(awsId("rtb"), "must be a list of route table ids")),
  // Where the tasks of an existing VPC reach ECR, Logs, Secrets Manager and SSM over HTTPS: its own
  // interface endpoints (the default, the VPC's CIDR), endpoints in a peered VPC, or 0.0.0.0/0 (NAT).
  existingVpcAwsApiCidrs: jsonOf(
    z
      .array(
        text(
          /^(\d{1,3}\.){3}\d{1,3}\/([0-9]|[12]\d|3[0-2])$/,
          "must be an IPv4 CIDR block, e.g. 10.0.0.0/16, or 0.0.0.0/0 behind a NAT gateway",
        ),
        "must be a list of CIDR blocks",
      )
      .min(1, "must list at least one CIDR block (with none, the tasks cannot pull images or write logs)"),
  ),
  tunnelHost: flag,
  deployerCidrs: jsonOf(
    z.array(
      text(
        /^(\d{1,3}\.){3}\d{1,3}\/([8-9]|[12]\d|3[0-2])$/,
        "must be an IPv4 CIDR block (/8 to /32), e.g. 10.200.0.0/24",
      ),
      "must be a list of CIDR blocks",
    ),
  ),
  // database
  // The major version only: RDS applies minor versions itself (autoMinorVersionUpgrade), so a pinned
  // minor would make the next `up` after an upgrade try to go back (docs/deploy.md).
  postgresVersion: z
    .string()
    .regex(
      /^(1[4-9]|[2-9]\d)$/,
      "must be an RDS PostgreSQL major version, 14 or later, e.g. 17 (RDS applies minor versions itself)",
    ),
  rdsInstanceClass: z
    .string()
    .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, "must look like db.<family>.<size>, e.g. db.t4g.medium"),
  rdsAllocatedStorageGb: wholeNumber(20, 65536),
  rdsMaxAllocatedStorageGb: wholeNumber(20, 65536),
  rdsMultiAz: flag,
  rdsBackupRetentionDays: wholeNumber(1, 35),
  maxSlotWalKeepSizeMb: wholeNumber(1024, 1048576),
  databaseName: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, "must be a lowercase PostgreSQL identifier"),
  existingDatabase: jsonOf(
    z.strictObject(
      {
        host: text(/^[A-Za-z0-9.-]+$/, "must be a host name"),
        port: z
          .number("must be a port number from 1 to 65535")
          .int("must be a port number from 1 to 65535")
          .min(1, "must be a port number from 1 to 65535")
          .max(65535, "must be a port number from 1 to 65535")
          .default(5432),
        masterSecretArn: arn("secretsmanager", "a Secrets Manager"),
        securityGroupId: awsId("sg"),
        instanceIdentifier: text(
          /^[a-z][a-z0-9-]{0,62}$/,
          "must be an RDS instance identifier (lowercase letters, digits and -)",
        ).optional(),
      },
      {
        error: (issue) =>
          issue.code === "unrecognized_keys"
            ? `unknown key ${issue.keys.map((k) => `"${k}"`).join(", ")} (host, port, masterSecretArn, securityGroupId, instanceIdentifier)`
            : "must be a map {host, port, masterSecretArn, securityGroupId, instanceIdentifier}",
      },
    ),
  ),
  createCommerceTables: flag,
  // kafka
  kafkaMode: z.enum(["provisioned", "serverless"], "must be provisioned or serverless"),
  kafkaVersion: z
    .string()
    .regex(
      /^(3\.([7-9]|\d{2,})|[4-9]\.\d+)\.(x|\d+)(\.kraft)?$/,
      "must be an MSK Kafka version 3.7 or later, e.g. 3.9.x",
    ),
  kafkaBrokerInstanceType: z
    .string()
    .regex(/^kafka\.[a-z0-9]+\.[a-z0-9]+$/, "must look like kafka.<family>.<size>"),
  kafkaBrokersPerAz: wholeNumber(1, 10),
  kafkaBrokerVolumeGb: wholeNumber(10, 16384),
  topicPartitions: wholeNumber(1, 1000),
  topicReplicationFactor: wholeNumber(1, 5),
  topicRetentionHours: wholeNumber(1, 87600),
  // connect
  connectDesiredCount: wholeNumber(1, 20),
  connectMinCount: wholeNumber(1, 20),
  connectMaxCount: wholeNumber(1, 20),
  connectCpu: fargateCpu,
  connectMemory: wholeNumber(512, 122880),
  connectCpuTargetPercent: wholeNumber(10, 95),
  connectCertificateArn: arn("acm", "an ACM certificate"),
  connectorsEnabled: flag,
  // S3 sink wall-clock rotation (rotate.schedule.interval.ms): at most a day, the sink rotates at
  // midnight anyway (1440 = SCHEDULED_ROTATION_MAX_MS of connectors/config/sink.ts, in minutes).
  sinkRotateScheduleMinutes: z
    .string()
    .trim()
    .regex(/^\d+$/, ROTATE_MINUTES)
    .transform(Number)
    .refine((minutes) => minutes <= 1440, ROTATE_MINUTES),
  // storage
  bucketName: z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
      "must be a valid S3 bucket name (3-63 lowercase letters, digits, . and -)",
    ),
  topicsDir: z.string().regex(/^[A-Za-z0-9_-]+$/, "must be one path segment (letters, digits, _ and -)"),
  analyticsPrefix: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, "must be one path segment (letters, digits, _ and -)"),
  rawInfrequentAccessDays: wholeNumber(30, 3650),
  storageKms: flag,
  // analytics
  analyticsSchedule: z
    .string()
    .regex(
      /^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(\S+ \S+ \S+ \S+ \S+ \S+\))$/,
      "must be an EventBridge Scheduler expression: rate(<n> <unit>) or cron(<6 fields>)",
    )
    // The no-successful-run alarm watches two gaps between runs: they must be regular and short enough.
    .pipe(
      z.string().superRefine((expression, ctx) => {
        const gap = scheduleGapMinutes(expression);
        const problem =
          "problem" in gap
            ? `must run at regular gaps the no-successful-run alarm can watch: this one ${gap.problem}`
            : gap.minutes > MAX_GAP_MINUTES
              ? `must run at least every ${MAX_GAP_MINUTES / 60} hours (the no-successful-run alarm watches two gaps, CloudWatch at most 7 days)`
              : undefined;
        if (problem) ctx.addIssue({ code: "custom", message: problem, input: expression });
      }),
    ),
  analyticsScheduleTimezone: z
    .string()
    .regex(/^[A-Za-z_]+(\/[A-Za-z_+-]+)*$/, "must be an IANA time zone, e.g. UTC"),
  analyticsCpu: fargateCpu,
  analyticsMemory: wholeNumber(512, 122880),
  // The SCD2 task's local disk (it stages the change files it reads there): Fargate sizes 21-200 GiB.
  scd2EphemeralStorageGiB: wholeNumber(21, 200),
  // alarms
  alarmEmails: jsonOf(z.array(z.email("must be an e-mail address"), "must be a list of e-mail addresses")),
  slotLagAlarmBytes: wholeNumber(1048576, Number.MAX_SAFE_INTEGER),
  freeStorageAlarmBytes: wholeNumber(1048576, Number.MAX_SAFE_INTEGER),
  kafkaDiskAlarmPercent: wholeNumber(1, 99),
  // endpoints Pulumi itself uses
  inClusterResources: flag,
  databaseEndpoint: hostPort,
  kafkaBootstrapServers: z
    .string()
    .regex(
      /^[A-Za-z0-9.-]+:\d{1,5}(,[A-Za-z0-9.-]+:\d{1,5})*$/,
      "must be a comma-separated list of host:port",
    )
    .transform((v) => v.split(",")),
  connectUrl: z.url({ protocol: /^https?$/, error: "must be an http(s) URL, e.g. http://localhost:18083" }),
  databaseSslMode: z.enum(
    ["require", "verify-ca", "verify-full"],
    "must be require, verify-ca or verify-full",
  ),
};

/** The keys this stack reads, without the project prefix. */
export const configKeys: string[] = Object.keys(fields);

export const settingsSchema = z.object(
  Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v.optional()])) as {
    [K in keyof typeof fields]: z.ZodOptional<(typeof fields)[K]>;
  },
);

export type Settings = z.output<typeof settingsSchema>;

/** Settings of the RDS instance the stack creates (not of an existing database). */
const RDS_INSTANCE_KEYS: (keyof Settings)[] = [
  "postgresVersion",
  "rdsInstanceClass",
  "rdsAllocatedStorageGb",
  "rdsMaxAllocatedStorageGb",
  "rdsMultiAz",
  "rdsBackupRetentionDays",
];
/** Settings of provisioned MSK brokers (MSK Serverless has none). */
const PROVISIONED_KAFKA_KEYS: (keyof Settings)[] = [
  "kafkaVersion",
  "kafkaBrokerInstanceType",
  "kafkaBrokersPerAz",
  "kafkaBrokerVolumeGb",
  "kafkaDiskAlarmPercent",
];

/**
 * Rules between keys, checked once every key is valid on its own (so one mistake gives one message).
 * Returns `[key, message]` pairs.
 */
export function crossKeyProblems(s: Settings): [string, string][] {
  const problems: [string, string][] = [];
  const problem = (key: string, message: string) => problems.push([key, message]);
  if ((s.existingPrivateSubnetIds || s.existingPrivateRouteTableIds) && !s.existingVpcId) {
    problem("existingVpcId", "required when existingPrivateSubnetIds or existingPrivateRouteTableIds is set");
  }
  if (s.existingVpcId && !s.existingPrivateSubnetIds) {
    problem("existingPrivateSubnetIds", "required when existingVpcId is set");
  }
  if (s.existingVpcId && s.vpcCidr) {
    problem("vpcCidr", "cannot be set together with existingVpcId");
  }
  if (s.existingVpcAwsApiCidrs && !s.existingVpcId) {
    problem(
      "existingVpcAwsApiCidrs",
      "has no effect without existingVpcId (the VPC the stack creates has its own interface endpoints)",
    );
  }
  // Keys that configure something this stack does not create: silently ignoring them would mislead.
  const ignored: [boolean, string, (keyof Settings)[]][] = [
    [
      s.existingDatabase !== undefined,
      "has no effect with existingDatabase (it configures the RDS instance the stack would create)",
      RDS_INSTANCE_KEYS,
    ],
    [
      s.kafkaMode === "serverless",
      "has no effect with kafkaMode serverless (it configures provisioned brokers)",
      PROVISIONED_KAFKA_KEYS,
    ],
  ];
  for (const [applies, message, keys] of ignored) {
    if (applies) keys.filter((key) => s[key] !== undefined).forEach((key) => problem(key, message));
  }
  const allocated = s.rdsAllocatedStorageGb ?? DEFAULTS.rdsAllocatedStorageGb;
  if ((s.rdsMaxAllocatedStorageGb ?? DEFAULTS.rdsMaxAllocatedStorageGb) < allocated) {
    problem("rdsMaxAllocatedStorageGb", `must be at least rdsAllocatedStorageGb (${allocated})`);
  }
  const brokers =
    (s.kafkaBrokersPerAz ?? DEFAULTS.kafkaBrokersPerAz) *
    (s.availabilityZoneCount ?? DEFAULTS.availabilityZoneCount);
  if (
    s.kafkaMode === "serverless" &&
    s.topicReplicationFactor !== undefined &&
    s.topicReplicationFactor !== 3
  ) {
    problem("topicReplicationFactor", "must be 3 with kafkaMode serverless (MSK Serverless fixes it)");
  } else if (s.kafkaMode !== "serverless" && (s.topicReplicationFactor ?? 0) > brokers) {
    problem("topicReplicationFactor", `must not exceed the broker count (${brokers})`);
  }
  const min = s.connectMinCount ?? DEFAULTS.connectMinCount;
  const max = s.connectMaxCount ?? DEFAULTS.connectMaxCount;
  const desired = s.connectDesiredCount ?? DEFAULTS.connectDesiredCount;
  if (min > max) problem("connectMinCount", `must not exceed connectMaxCount (${max})`);
  if (desired < min || desired > max) {
    problem("connectDesiredCount", `must be between connectMinCount (${min}) and connectMaxCount (${max})`);
  }
  for (const [cpuKey, memoryKey, cpu, memory] of [
    [
      "connectCpu",
      "connectMemory",
      s.connectCpu ?? DEFAULTS.connectCpu,
      s.connectMemory ?? DEFAULTS.connectMemory,
    ],
    [
      "analyticsCpu",
      "analyticsMemory",
      s.analyticsCpu ?? DEFAULTS.analyticsCpu,
      s.analyticsMemory ?? DEFAULTS.analyticsMemory,
    ],
  ] as const) {
    if (!fargateMemoryOptions(cpu).includes(memory)) {
      problem(memoryKey, `${memory} MiB is not a Fargate memory size for ${cpuKey} ${cpu}`);
    }
  }
  if ((s.analyticsPrefix ?? DEFAULTS.analyticsPrefix) === (s.topicsDir ?? DEFAULTS.topicsDir)) {
    problem(
      "analyticsPrefix",
      "must differ from topicsDir (raw change files and SCD2 output are kept apart)",
    );
  }
  return problems;
}

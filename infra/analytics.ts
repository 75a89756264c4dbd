// Analytics: the DuckDB SCD2 job image, its Fargate task definition and the EventBridge Scheduler
// schedule that runs it in the private subnets.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  bucketKeyStatement,
  assumeRolePolicy,
  executionStatements,
  fargateTaskDefinition,
  policyDocument,
  repositoryImage,
  s3ObjectsArn,
  serviceLogGroup,
  taskRole,
  type LogGroupSettings,
  type StatementInput,
} from "./lib";

export interface AnalyticsArgs {
  /** AWS region (log configuration). */
  region: string;
  /** ECS cluster the task runs on. */
  clusterArn: pulumi.Input<string>;
  /** Private subnets the scheduled task runs in. */
  subnetIds: pulumi.Input<string>[];
  /** Security group of the task. */
  securityGroupId: pulumi.Input<string>;
  /** The bucket holding raw changes and SCD2 output. */
  bucketName: pulumi.Input<string>;
  /** Its ARN (the task role is scoped to its prefixes). */
  bucketArn: pulumi.Input<string>;
  /** Raw change files prefix (read only). */
  topicsDir: string;
  /** SCD2 output prefix (read/write). */
  analyticsPrefix: string;
  /** The bucket's KMS key, when it has one. Defaults to none (S3-managed keys). */
  bucketKmsKeyArn?: pulumi.Input<string>;
  /**
   * Glue database of the SCD2 tables (the catalog's): after each run the job adds the columns its files
   * gained to those tables and rewrites their Athena views (`--glue-database`). Defaults to none.
   */
  glueDatabase?: pulumi.Input<string>;
  /** Scheduler expression. Defaults to "rate(1 hour)". */
  schedule?: string;
  /** Time zone of cron expressions. Defaults to "UTC". */
  timezone?: string;
  /** Fargate CPU units. Defaults to 1024. */
  cpu?: number;
  /** Fargate memory (MiB), valid for `cpu`. Defaults to 4096. */
  memory?: number;
  /**
   * The task's local disk (GiB, 21-200): the job stages every file it reads there, and Fargate's
   * default of 20 GiB runs out on a large first run. Defaults to 50.
   */
  ephemeralStorageGiB?: number;
  /** Ephemeral stack (repository force-delete). Defaults to false. */
  ephemeral?: boolean;
  /** Log group retention and tags. */
  logs: LogGroupSettings;
  /** Tags for every resource. Defaults to none. */
  tags?: Record<string, string>;
}

/**
 * DuckDB's memory limit for a task of `taskMemoryMiB`: DuckDB's resident size runs up to ~1.7x its
 * limit (buffers outside it, Node), so 60% keeps the task clear of its hard limit; beyond it, it spills.
 */
const jobMemoryLimit = (taskMemoryMiB: number): string => `${Math.floor(taskMemoryMiB * 0.6)}MiB`;

/** The job's command line: read the raw prefix, write the SCD2 prefix, within the task's memory. */
export function scd2Command(
  bucket: string,
  topicsDir: string,
  analyticsPrefix: string,
  taskMemoryMiB: number,
  glueDatabase?: string,
): string[] {
  const catalog = glueDatabase === undefined ? [] : ["--glue-database", glueDatabase];
  return [
    "run",
    "--source",
    `s3://${bucket}/${topicsDir}`,
    "--output",
    `s3://${bucket}/${analyticsPrefix}`,
    "--memory-limit",
    jobMemoryLimit(taskMemoryMiB),
    ...catalog,
  ];
}

/** ARN pattern of every task in the cluster `clusterArn` (`…:cluster/<name>` → `…:task/<name>/*`). */
export function clusterTasksArn(clusterArn: string): string {
  const match = /^(arn:[^:]+:ecs:[^:]*:[^:]*:)cluster\/([^/]+)$/.exec(clusterArn);
  if (!match) throw new Error(`not an ECS cluster ARN: ${clusterArn}`);
  return `${match[1]}task/${match[2]}/*`;
}

/**
 * Read-only on the raw prefix, read/write on the analytics prefix, listing of those two only; with a
 * Glue database, reading and updating its tables (the job adds columns and rewrites the views; it
 * creates and deletes nothing, and no other database's tables).
 */
export function analyticsTaskStatements(a: {
  bucketArn: string;
  topicsDir: string;
  analyticsPrefix: string;
  kmsKeyArn?: string;
  glue?: { region: string; accountId: string; databaseName: string };
}): StatementInput[] {
  const statements: StatementInput[] = [
    {
      Sid: "ListOwnPrefixes",
      Action: ["s3:ListBucket"],
      Resource: [a.bucketArn],
      Condition: {
        StringLike: {
          "s3:prefix": [
            `${a.topicsDir}`,
            `${a.topicsDir}/*`,
            `${a.analyticsPrefix}`,
            `${a.analyticsPrefix}/*`,
          ],
        },
      },
    },
    { Sid: "ReadRawChanges", Action: ["s3:GetObject"], Resource: [s3ObjectsArn(a.bucketArn, a.topicsDir)] },
    {
      Sid: "ReadWriteScd2",
      Action: [
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
      ],
      Resource: [s3ObjectsArn(a.bucketArn, a.analyticsPrefix)],
    },
  ];
  if (a.glue) {
    const glue = `arn:aws:glue:${a.glue.region}:${a.glue.accountId}`;
    statements.push({
      Sid: "KeepCatalogColumns",
      Action: ["glue:GetTable", "glue:UpdateTable"],
      Resource: [
        `${glue}:catalog`,
        `${glue}:database/${a.glue.databaseName}`,
        `${glue}:table/${a.glue.databaseName}/*`,
      ],
    });
  }
  return a.kmsKeyArn ? [...statements, bucketKeyStatement(a.kmsKeyArn)] : statements;
}

export class Analytics extends pulumi.ComponentResource {
  readonly taskDefinitionArn: pulumi.Output<string>;
  readonly taskFamily: string;
  readonly scheduleName: pulumi.Output<string>;
  /** Runs the scheduler could not start, with its error (the queue's `NumberOfMessagesSent` alarms). */
  readonly deadLetterQueueName: pulumi.Output<string>;
  readonly deadLetterQueueUrl: pulumi.Output<string>;
  readonly logGroupName: pulumi.Output<string>;
  /** The command the schedule runs (for re-running by hand). */
  readonly command: pulumi.Output<string[]>;

  constructor(name: string, args: AnalyticsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cdc:analytics:Analytics", name, {}, opts);
    const tags = args.tags ?? {};
    const { repository, imageUri } = repositoryImage(
      `${name}-job`,
      { context: ".", dockerfile: "analytics/Dockerfile", ephemeral: args.ephemeral ?? false, tags },
      this,
    );
    const logGroup = serviceLogGroup(`${name}-job`, "analytics", args.logs, this);
    this.logGroupName = logGroup.name;
    const executionRole = taskRole(
      `${name}-execution`,
      executionStatements(repository.arn, logGroup.arn),
      tags,
      this,
    );
    const accountId = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
    const role = taskRole(
      `${name}-task`,
      pulumi
        .all([args.bucketArn, args.bucketKmsKeyArn, args.glueDatabase, accountId])
        .apply(([bucketArn, kmsKeyArn, databaseName, account]) =>
          analyticsTaskStatements({
            bucketArn,
            topicsDir: args.topicsDir,
            analyticsPrefix: args.analyticsPrefix,
            kmsKeyArn,
            glue:
              databaseName === undefined
                ? undefined
                : { region: args.region, accountId: account, databaseName },
          }),
        ),
      tags,
      this,
    );

    this.taskFamily = `${pulumi.getProject()}-${pulumi.getStack()}-scd2`;
    const memory = args.memory ?? 4096;
    this.command = pulumi
      .all([args.bucketName, args.glueDatabase])
      .apply(([bucket, glueDatabase]) =>
        scd2Command(bucket, args.topicsDir, args.analyticsPrefix, memory, glueDatabase),
      );
    const taskDefinition = fargateTaskDefinition(
      `${name}-task`,
      {
        family: this.taskFamily,
        cpu: args.cpu ?? 1024,
        memory,
        ephemeralStorageGiB: args.ephemeralStorageGiB ?? 50,
        executionRoleArn: executionRole.arn,
        taskRoleArn: role.arn,
        container: {
          name: "scd2",
          image: imageUri,
          logGroupName: logGroup.name,
          region: args.region,
          command: this.command,
          environment: { AWS_REGION: args.region },
        },
        tags,
      },
      this,
    );
    this.taskDefinitionArn = taskDefinition.arn;

    // Where the scheduler puts a run it could not start (RunTask refused, role or network problems),
    // with the error as message attributes; kept 14 days for whoever answers the alarm.
    const deadLetters = new aws.sqs.Queue(
      `${name}-undelivered`,
      { messageRetentionSeconds: 14 * 24 * 3600, sqsManagedSseEnabled: true, tags },
      { parent: this },
    );
    this.deadLetterQueueName = deadLetters.name;
    this.deadLetterQueueUrl = deadLetters.url;
    const schedulerRole = new aws.iam.Role(
      `${name}-scheduler`,
      {
        assumeRolePolicy: assumeRolePolicy("scheduler.amazonaws.com", accountId),
        tags,
      },
      { parent: this },
    );
    new aws.iam.RolePolicy(
      `${name}-scheduler`,
      {
        role: schedulerRole.id,
        policy: policyDocument([
          {
            Sid: "RunScd2Task",
            Action: ["ecs:RunTask"],
            Resource: [taskDefinition.arn],
            Condition: { ArnEquals: { "ecs:cluster": args.clusterArn } },
          },
          {
            // RunTask with propagateTags tags the new task, which ECS authorizes as ecs:TagResource
            // on the task (AWS, "Amazon ECS EventBridge IAM Role"): only tasks of this cluster,
            // only while RunTask creates them.
            Sid: "TagScd2Task",
            Action: ["ecs:TagResource"],
            Resource: [pulumi.output(args.clusterArn).apply(clusterTasksArn)],
            Condition: { StringEquals: { "ecs:CreateAction": "RunTask" } },
          },
          { Sid: "PassTaskRoles", Action: ["iam:PassRole"], Resource: [role.arn, executionRole.arn] },
          { Sid: "DeadLetters", Action: ["sqs:SendMessage"], Resource: [deadLetters.arn] },
        ]),
      },
      { parent: this },
    );
    const schedule = new aws.scheduler.Schedule(
      `${name}-schedule`,
      {
        namePrefix: `${pulumi.getStack()}-scd2-`,
        description: "Runs the DuckDB SCD2 job over the raw change files",
        scheduleExpression: args.schedule ?? "rate(1 hour)",
        scheduleExpressionTimezone: args.timezone ?? "UTC",
        flexibleTimeWindow: { mode: "OFF" },
        state: "ENABLED",
        target: {
          arn: args.clusterArn,
          roleArn: schedulerRole.arn,
          ecsParameters: {
            taskDefinitionArn: taskDefinition.arn,
            launchType: "FARGATE",
            taskCount: 1,
            networkConfiguration: {
              subnets: args.subnetIds,
              securityGroups: [args.securityGroupId],
              assignPublicIp: false,
            },
            propagateTags: "TASK_DEFINITION",
          },
          // A missed run is covered by the next one: the job always processes every new file.
          retryPolicy: { maximumRetryAttempts: 0, maximumEventAgeInSeconds: 3600 },
          deadLetterConfig: { arn: deadLetters.arn },
        },
      },
      { parent: this },
    );
    this.scheduleName = schedule.name;
    this.registerOutputs({
      taskDefinitionArn: this.taskDefinitionArn,
      scheduleName: this.scheduleName,
      deadLetterQueueUrl: this.deadLetterQueueUrl,
    });
  }
}

// What the Connect service and the analytics task share: an image built and pushed to its own ECR
// repository, least-privilege task/execution roles, and Fargate task definitions.
import * as aws from "@pulumi/aws";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { assumeRolePolicy, policyDocument, type StatementInput } from "./iam";

export interface ImageSettings {
  /** Build context, relative to the project root. */
  context: string;
  /** Dockerfile path, relative to the project root. */
  dockerfile: string;
  /** Ephemeral stack: the repository may be deleted with its images. */
  ephemeral: boolean;
  tags: Record<string, string>;
}

/** Images kept per repository; older ones expire. */
export const IMAGES_KEPT = 10;

/** An ECR repository and the image built from `settings` and pushed to it. */
export function repositoryImage(
  name: string,
  settings: ImageSettings,
  parent: pulumi.Resource,
): { repository: aws.ecr.Repository; imageUri: pulumi.Output<string> } {
  const repository = new aws.ecr.Repository(
    `${name}-repo`,
    {
      imageScanningConfiguration: { scanOnPush: true },
      imageTagMutability: "MUTABLE",
      encryptionConfigurations: [{ encryptionType: "AES256" }],
      forceDelete: settings.ephemeral,
      tags: settings.tags,
    },
    { parent },
  );
  new aws.ecr.LifecyclePolicy(
    `${name}-repo-lifecycle`,
    {
      repository: repository.name,
      policy: JSON.stringify({
        rules: [
          {
            rulePriority: 1,
            description: `keep the last ${IMAGES_KEPT} images`,
            selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: IMAGES_KEPT },
            action: { type: "expire" },
          },
        ],
      }),
    },
    { parent },
  );
  const token = aws.ecr.getAuthorizationTokenOutput({ registryId: repository.registryId }, { parent });
  const image = new docker.Image(
    `${name}-image`,
    {
      imageName: pulumi.interpolate`${repository.repositoryUrl}:${pulumi.getStack()}`,
      build: { context: settings.context, dockerfile: settings.dockerfile, platform: "linux/amd64" },
      registry: {
        server: repository.repositoryUrl,
        username: token.userName,
        password: pulumi.secret(token.password),
      },
    },
    { parent },
  );
  // The digest pins the task definition to exactly the image that was pushed.
  return { repository, imageUri: image.repoDigest };
}

/** A role that ECS tasks assume, with one inline policy of `statements`. */
export function taskRole(
  name: string,
  statements: pulumi.Input<StatementInput[]>,
  tags: Record<string, string>,
  parent: pulumi.Resource,
): aws.iam.Role {
  const role = new aws.iam.Role(
    name,
    { assumeRolePolicy: assumeRolePolicy("ecs-tasks.amazonaws.com"), tags },
    { parent },
  );
  new aws.iam.RolePolicy(name, { role: role.id, policy: policyDocument(statements) }, { parent });
  return role;
}

/** Statements the ECS agent needs to pull `repositoryArn` and write to `logGroupArn`. */
export function executionStatements(
  repositoryArn: pulumi.Input<string>,
  logGroupArn: pulumi.Input<string>,
): StatementInput[] {
  return [
    // GetAuthorizationToken has no resource-level permissions.
    { Sid: "EcrAuth", Action: ["ecr:GetAuthorizationToken"], Resource: ["*"] },
    {
      Sid: "EcrPull",
      Action: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
      Resource: [repositoryArn],
    },
    {
      Sid: "Logs",
      Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: [pulumi.interpolate`${logGroupArn}:*`],
    },
  ];
}

export interface ContainerSettings {
  name: string;
  image: pulumi.Input<string>;
  logGroupName: pulumi.Input<string>;
  region: string;
  environment?: Record<string, pulumi.Input<string>>;
  command?: pulumi.Input<string[]>;
  port?: number;
  healthCheckCommand?: string[];
}

export interface FargateTaskSettings {
  /** Task definition family. */
  family: string;
  /** CPU units and memory (MiB), a valid Fargate pair. */
  cpu: number;
  memory: number;
  /** Ephemeral storage (GiB, 21-200). Defaults to Fargate's 20 GiB. */
  ephemeralStorageGiB?: number;
  executionRoleArn: pulumi.Input<string>;
  taskRoleArn: pulumi.Input<string>;
  container: ContainerSettings;
  tags: Record<string, string>;
}

/** A Linux/x86-64 Fargate task definition (awsvpc networking) with one container. */
export function fargateTaskDefinition(
  name: string,
  settings: FargateTaskSettings,
  parent: pulumi.Resource,
): aws.ecs.TaskDefinition {
  return new aws.ecs.TaskDefinition(
    name,
    {
      family: settings.family,
      cpu: String(settings.cpu),
      memory: String(settings.memory),
      ephemeralStorage:
        settings.ephemeralStorageGiB === undefined ? undefined : { sizeInGib: settings.ephemeralStorageGiB },
      networkMode: "awsvpc",
      requiresCompatibilities: ["FARGATE"],
      runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
      executionRoleArn: settings.executionRoleArn,
      taskRoleArn: settings.taskRoleArn,
      containerDefinitions: containerDefinitions(settings.container),
      tags: settings.tags,
    },
    { parent },
  );
}

/** A one-container Fargate container definition list, logging to CloudWatch. */
export function containerDefinitions(c: ContainerSettings): pulumi.Output<string> {
  return pulumi
    .all([c.image, c.logGroupName, pulumi.output(c.environment ?? {}), pulumi.output(c.command)])
    .apply(([image, logGroup, environment, command]) =>
      JSON.stringify([
        {
          name: c.name,
          image,
          essential: true,
          ...(command ? { command } : {}),
          environment: Object.entries(environment)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([name, value]) => ({ name, value })),
          ...(c.port ? { portMappings: [{ containerPort: c.port, protocol: "tcp" }] } : {}),
          ...(c.healthCheckCommand
            ? {
                healthCheck: {
                  command: c.healthCheckCommand,
                  interval: 30,
                  timeout: 10,
                  retries: 3,
                  startPeriod: 120,
                },
              }
            : {}),
          logConfiguration: {
            logDriver: "awslogs",
            options: {
              "awslogs-group": logGroup,
              "awslogs-region": c.region,
              "awslogs-stream-prefix": c.name,
            },
          },
        },
      ]),
    );
}

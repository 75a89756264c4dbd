/* eslint-disable @typescript-eslint/no-explicit-any -- mock inputs are untyped JSON-like data */
/**
 * What the deploy role must be allowed for each resource type and invoke the program uses: the IAM actions
 * Pulumi's providers call to create, read, update and delete it, and, where its name is known, the ARN the
 * resource gets (auto-named resources end in `-` and 7 hex digits, as Pulumi names them). A type missing
 * here fails deploy-role.test.ts: a new resource type needs its rights in delivery/deploy-role/ first.
 */
import type { MockResource } from "./mock-stacks";

const ACCOUNT = "123456789012";
const REGION = "eu-west-1";
const arn = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${resource}`;
/** The physical name Pulumi gives an auto-named resource. */
const auto = (r: MockResource) => `${r.name}-1a2b3c4`;

export interface Needs {
  /** Actions on the resource itself (checked against `arns` when given). */
  actions: string[];
  arns?: (r: MockResource, stack: string, all: MockResource[]) => string[];
  /** Actions on other resources it names (roles it passes), with their ARNs. */
  also?: (r: MockResource, stack: string) => { actions: string[]; arns: string[] }[];
}

const passRole = (...roleArns: unknown[]) => [
  { actions: ["iam:PassRole"], arns: roleArns.filter((a): a is string => typeof a === "string") },
];
/** The bucket a bucket setting belongs to (the mocks give a resource the id `<name>-id`). */
const bucketOf = (r: MockResource, all: MockResource[]) => {
  const bucket = all.find((b) => b.type === "aws:s3/bucket:Bucket" && `${b.name}-id` === r.inputs.bucket);
  return [`arn:aws:s3:::${String(bucket?.inputs.bucketPrefix)}4f2a9c`];
};
const mskClusterArn = (stack: string) => arn("kafka", `cluster/cdc-pipeline-${stack}/0a1b2c3d-uuid-1`);

/** Types that need no AWS rights: components, the random provider, objects inside PostgreSQL and Connect. */
export const NO_AWS_RIGHTS =
  /^(cdc:|random:|postgresql:|pulumi:providers:(postgresql|aws|docker|random)$|pulumi-nodejs:dynamic\/)/;

export const RESOURCE_NEEDS: Record<string, Needs> = {
  "aws:ec2/vpc:Vpc": {
    actions: [
      "ec2:CreateVpc",
      "ec2:ModifyVpcAttribute",
      "ec2:DeleteVpc",
      "ec2:DescribeVpcs",
      "ec2:CreateTags",
    ],
  },
  "aws:ec2/subnet:Subnet": { actions: ["ec2:CreateSubnet", "ec2:DeleteSubnet", "ec2:DescribeSubnets"] },
  "aws:ec2/routeTable:RouteTable": {
    actions: ["ec2:CreateRouteTable", "ec2:DeleteRouteTable", "ec2:DescribeRouteTables"],
  },
  "aws:ec2/routeTableAssociation:RouteTableAssociation": {
    actions: ["ec2:AssociateRouteTable", "ec2:DisassociateRouteTable"],
  },
  "aws:ec2/securityGroup:SecurityGroup": {
    actions: [
      "ec2:CreateSecurityGroup",
      "ec2:DeleteSecurityGroup",
      "ec2:RevokeSecurityGroupEgress",
      "ec2:DescribeSecurityGroups",
    ],
  },
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": {
    actions: [
      "ec2:AuthorizeSecurityGroupIngress",
      "ec2:RevokeSecurityGroupIngress",
      "ec2:DescribeSecurityGroupRules",
      "ec2:ModifySecurityGroupRules",
    ],
  },
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": {
    actions: [
      "ec2:AuthorizeSecurityGroupEgress",
      "ec2:RevokeSecurityGroupEgress",
      "ec2:DescribeSecurityGroupRules",
      "ec2:ModifySecurityGroupRules",
    ],
  },
  "aws:ec2/vpcEndpoint:VpcEndpoint": {
    actions: [
      "ec2:CreateVpcEndpoint",
      "ec2:ModifyVpcEndpoint",
      "ec2:DeleteVpcEndpoints",
      "ec2:DescribeVpcEndpoints",
      "ec2:DescribePrefixLists",
    ],
  },
  "aws:ec2/instance:Instance": {
    actions: [
      "ec2:RunInstances",
      "ec2:TerminateInstances",
      "ec2:ModifyInstanceAttribute",
      "ec2:DescribeInstances",
    ],
    also: () => passRole(`arn:aws:iam::${ACCOUNT}:role/tunnel-role-1a2b3c4`),
  },
  "aws:iam/role:Role": {
    actions: [
      "iam:CreateRole",
      "iam:DeleteRole",
      "iam:GetRole",
      "iam:UpdateAssumeRolePolicy",
      "iam:TagRole",
      "iam:ListRolePolicies",
      "iam:ListAttachedRolePolicies",
      "iam:ListInstanceProfilesForRole",
    ],
    arns: (r) => [`arn:aws:iam::${ACCOUNT}:role/${auto(r)}`],
  },
  "aws:iam/rolePolicy:RolePolicy": {
    actions: ["iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy"],
    arns: (r) => [`arn:aws:iam::${ACCOUNT}:role/${auto(r)}`],
  },
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": {
    actions: ["iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:ListAttachedRolePolicies"],
    arns: () => [`arn:aws:iam::${ACCOUNT}:role/tunnel-role-1a2b3c4`],
  },
  "aws:iam/instanceProfile:InstanceProfile": {
    actions: [
      "iam:CreateInstanceProfile",
      "iam:DeleteInstanceProfile",
      "iam:GetInstanceProfile",
      "iam:AddRoleToInstanceProfile",
      "iam:RemoveRoleFromInstanceProfile",
    ],
    arns: (r) => [`arn:aws:iam::${ACCOUNT}:instance-profile/${auto(r)}`],
    also: () => passRole(`arn:aws:iam::${ACCOUNT}:role/tunnel-role-1a2b3c4`),
  },
  "aws:s3/bucket:Bucket": {
    actions: [
      "s3:CreateBucket",
      "s3:DeleteBucket",
      "s3:ListBucket",
      "s3:GetBucketTagging",
      "s3:PutBucketTagging",
      "s3:GetBucketAcl",
      "s3:GetBucketCORS",
      "s3:GetBucketWebsite",
      "s3:GetAccelerateConfiguration",
      "s3:GetBucketRequestPayment",
      "s3:GetBucketLogging",
      "s3:GetReplicationConfiguration",
      "s3:GetBucketObjectLockConfiguration",
      "s3:ListBucketVersions",
      "s3:DeleteObject",
      "s3:DeleteObjectVersion",
    ],
    arns: (r) => [`arn:aws:s3:::${String(r.inputs.bucketPrefix)}4f2a9c`],
  },
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": {
    actions: ["s3:PutBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock"],
    arns: (r, _s, all) => bucketOf(r, all),
  },
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls": {
    actions: ["s3:PutBucketOwnershipControls", "s3:GetBucketOwnershipControls"],
    arns: (r, _s, all) => bucketOf(r, all),
  },
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": {
    actions: ["s3:PutEncryptionConfiguration", "s3:GetEncryptionConfiguration"],
    arns: (r, _s, all) => bucketOf(r, all),
  },
  "aws:s3/bucketVersioning:BucketVersioning": {
    actions: ["s3:PutBucketVersioning", "s3:GetBucketVersioning"],
    arns: (r, _s, all) => bucketOf(r, all),
  },
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": {
    actions: ["s3:PutLifecycleConfiguration", "s3:GetLifecycleConfiguration"],
    arns: (r, _s, all) => bucketOf(r, all),
  },
  "aws:s3/bucketPolicy:BucketPolicy": {
    actions: ["s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:DeleteBucketPolicy"],
    arns: (r, _s, all) => bucketOf(r, all),
  },
  "aws:kms/key:Key": {
    actions: [
      "kms:CreateKey",
      "kms:DescribeKey",
      "kms:GetKeyPolicy",
      "kms:PutKeyPolicy",
      "kms:GetKeyRotationStatus",
      "kms:EnableKeyRotation",
      "kms:ListResourceTags",
      "kms:TagResource",
      "kms:ScheduleKeyDeletion",
    ],
  },
  "aws:rds/subnetGroup:SubnetGroup": {
    actions: [
      "rds:CreateDBSubnetGroup",
      "rds:ModifyDBSubnetGroup",
      "rds:DeleteDBSubnetGroup",
      "rds:DescribeDBSubnetGroups",
      "rds:AddTagsToResource",
      "rds:ListTagsForResource",
    ],
    arns: (r) => [arn("rds", `subgrp:${auto(r)}`)],
  },
  "aws:rds/parameterGroup:ParameterGroup": {
    actions: [
      "rds:CreateDBParameterGroup",
      "rds:ModifyDBParameterGroup",
      "rds:DeleteDBParameterGroup",
      "rds:DescribeDBParameterGroups",
      "rds:DescribeDBParameters",
    ],
    arns: (r) => [arn("rds", `pg:${auto(r)}`)],
  },
  "aws:rds/instance:Instance": {
    actions: [
      "rds:CreateDBInstance",
      "rds:ModifyDBInstance",
      "rds:DeleteDBInstance",
      "rds:DescribeDBInstances",
      "rds:RebootDBInstance",
      "rds:AddTagsToResource",
      "rds:ListTagsForResource",
    ],
    arns: (r) => [arn("rds", `db:${String(r.inputs.identifier)}`)],
    also: (r) => [
      {
        actions: ["rds:CreateDBSnapshot"],
        arns: [arn("rds", `snapshot:${String(r.inputs.identifier)}-final`)],
      },
      // RDS-managed master password: RDS creates the secret with the caller's rights.
      {
        actions: ["secretsmanager:CreateSecret", "secretsmanager:TagResource", "kms:DescribeKey"],
        arns: [arn("secretsmanager", "secret:rds!db-0a1b2c3d")],
      },
      {
        actions: ["iam:CreateServiceLinkedRole"],
        arns: [`arn:aws:iam::${ACCOUNT}:role/aws-service-role/rds.amazonaws.com/AWSServiceRoleForRDS`],
      },
    ],
  },
  "aws:secretsmanager/secret:Secret": {
    actions: [
      "secretsmanager:CreateSecret",
      "secretsmanager:DeleteSecret",
      "secretsmanager:DescribeSecret",
      "secretsmanager:GetResourcePolicy",
      "secretsmanager:TagResource",
    ],
    arns: (r) => [arn("secretsmanager", `secret:${String(r.inputs.namePrefix)}AbCdEf`)],
  },
  "aws:secretsmanager/secretVersion:SecretVersion": {
    actions: [
      "secretsmanager:PutSecretValue",
      "secretsmanager:GetSecretValue",
      "secretsmanager:UpdateSecret",
    ],
    arns: (_r, s) => [arn("secretsmanager", `secret:cdc-pipeline/${s}/cdc_connector-AbCdEf`)],
  },
  "aws:msk/configuration:Configuration": {
    actions: [
      "kafka:CreateConfiguration",
      "kafka:UpdateConfiguration",
      "kafka:DeleteConfiguration",
      "kafka:DescribeConfiguration",
      "kafka:DescribeConfigurationRevision",
    ],
    arns: (r) => [arn("kafka", `configuration/${auto(r)}/0a1b2c3d-uuid-2`)],
  },
  "aws:msk/cluster:Cluster": {
    actions: [
      "kafka:CreateCluster",
      "kafka:DeleteCluster",
      "kafka:DescribeCluster",
      "kafka:GetBootstrapBrokers",
      "kafka:UpdateBrokerStorage",
      "kafka:UpdateClusterConfiguration",
      "kafka:ListTagsForResource",
      "kafka:TagResource",
    ],
    arns: (_r, s) => [mskClusterArn(s)],
    also: () => [
      {
        actions: ["iam:CreateServiceLinkedRole"],
        arns: [`arn:aws:iam::${ACCOUNT}:role/aws-service-role/kafka.amazonaws.com/AWSServiceRoleForKafka`],
      },
      { actions: ["logs:CreateLogDelivery", "logs:PutResourcePolicy"], arns: ["*"] },
    ],
  },
  "aws:msk/serverlessCluster:ServerlessCluster": {
    actions: [
      "kafka:CreateClusterV2",
      "kafka:DeleteCluster",
      "kafka:DescribeClusterV2",
      "kafka:GetBootstrapBrokers",
      "kafka:TagResource",
      "kafka:ListTagsForResource",
    ],
    arns: (_r, s) => [mskClusterArn(s)],
  },
  "pulumi:providers:kafka": {
    actions: ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"],
    arns: (_r, s) => [mskClusterArn(s)],
  },
  "kafka:index/topic:Topic": {
    actions: [
      "kafka-cluster:CreateTopic",
      "kafka-cluster:DescribeTopic",
      "kafka-cluster:AlterTopic",
      "kafka-cluster:DeleteTopic",
      "kafka-cluster:DescribeTopicDynamicConfiguration",
      "kafka-cluster:AlterTopicDynamicConfiguration",
    ],
    arns: (r, s) => [arn("kafka", `topic/cdc-pipeline-${s}/0a1b2c3d-uuid-1/${String(r.inputs.name)}`)],
  },
  "aws:cloudwatch/logGroup:LogGroup": {
    actions: [
      "logs:CreateLogGroup",
      "logs:DeleteLogGroup",
      "logs:PutRetentionPolicy",
      "logs:DescribeLogGroups",
      "logs:TagResource",
      "logs:ListTagsForResource",
    ],
    arns: (r) => [arn("logs", `log-group:${String(r.inputs.name)}`)],
  },
  "aws:ecr/repository:Repository": {
    actions: [
      "ecr:CreateRepository",
      "ecr:DeleteRepository",
      "ecr:DescribeRepositories",
      "ecr:PutImageScanningConfiguration",
      "ecr:PutImageTagMutability",
      "ecr:TagResource",
      "ecr:ListTagsForResource",
      "ecr:BatchDeleteImage",
      "ecr:ListImages",
    ],
    arns: (r) => [arn("ecr", `repository/${auto(r)}`)],
  },
  "aws:ecr/lifecyclePolicy:LifecyclePolicy": {
    actions: ["ecr:PutLifecyclePolicy", "ecr:GetLifecyclePolicy", "ecr:DeleteLifecyclePolicy"],
    arns: (r) => [arn("ecr", `repository/${r.name.replace(/-lifecycle$/, "")}-1a2b3c4`)],
  },
  "docker:index/image:Image": {
    actions: [
      "ecr:BatchCheckLayerAvailability",
      "ecr:InitiateLayerUpload",
      "ecr:UploadLayerPart",
      "ecr:CompleteLayerUpload",
      "ecr:PutImage",
      "ecr:BatchGetImage",
      "ecr:GetDownloadUrlForLayer",
    ],
    arns: (r) => [
      arn("ecr", `repository/${String(r.inputs.imageName).split("/")[1]!.split(":")[0]}-1a2b3c4`),
    ],
  },
  "aws:ecs/cluster:Cluster": {
    actions: [
      "ecs:CreateCluster",
      "ecs:DeleteCluster",
      "ecs:DescribeClusters",
      "ecs:UpdateClusterSettings",
      "ecs:TagResource",
      "ecs:ListTagsForResource",
    ],
    arns: (r) => [arn("ecs", `cluster/${auto(r)}`)],
  },
  "aws:ecs/taskDefinition:TaskDefinition": {
    actions: ["ecs:RegisterTaskDefinition", "ecs:DeregisterTaskDefinition", "ecs:DescribeTaskDefinition"],
    also: (r) => passRole(r.inputs.executionRoleArn, r.inputs.taskRoleArn),
  },
  "aws:ecs/service:Service": {
    actions: [
      "ecs:CreateService",
      "ecs:UpdateService",
      "ecs:DeleteService",
      "ecs:DescribeServices",
      "ecs:TagResource",
    ],
    arns: (r) => [arn("ecs", `service/connect-cluster-1a2b3c4/${auto(r)}`)],
    also: () => [
      {
        actions: ["iam:CreateServiceLinkedRole"],
        arns: [`arn:aws:iam::${ACCOUNT}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS`],
      },
    ],
  },
  "aws:lb/loadBalancer:LoadBalancer": {
    actions: [
      "elasticloadbalancing:CreateLoadBalancer",
      "elasticloadbalancing:DeleteLoadBalancer",
      "elasticloadbalancing:ModifyLoadBalancerAttributes",
      "elasticloadbalancing:DescribeLoadBalancers",
      "elasticloadbalancing:DescribeLoadBalancerAttributes",
      "elasticloadbalancing:AddTags",
      "elasticloadbalancing:DescribeTags",
      "elasticloadbalancing:SetSecurityGroups",
    ],
    arns: (r) => [arn("elasticloadbalancing", `loadbalancer/app/${auto(r)}/50dc6c495c0c9188`)],
    also: () => [
      {
        actions: ["iam:CreateServiceLinkedRole"],
        arns: [
          `arn:aws:iam::${ACCOUNT}:role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing`,
        ],
      },
    ],
  },
  "aws:lb/targetGroup:TargetGroup": {
    actions: [
      "elasticloadbalancing:CreateTargetGroup",
      "elasticloadbalancing:DeleteTargetGroup",
      "elasticloadbalancing:ModifyTargetGroup",
      "elasticloadbalancing:ModifyTargetGroupAttributes",
      "elasticloadbalancing:DescribeTargetGroups",
      "elasticloadbalancing:AddTags",
    ],
    arns: (r) => [arn("elasticloadbalancing", `targetgroup/${auto(r)}/73e2d6bc24d8a067`)],
  },
  "aws:lb/listener:Listener": {
    actions: [
      "elasticloadbalancing:CreateListener",
      "elasticloadbalancing:DeleteListener",
      "elasticloadbalancing:ModifyListener",
      "elasticloadbalancing:DescribeListeners",
      "elasticloadbalancing:AddTags",
    ],
    arns: () => [
      arn("elasticloadbalancing", "listener/app/connect-lb-1a2b3c4/50dc6c495c0c9188/f2f7dc8efc522ab2"),
    ],
  },
  "aws:appautoscaling/target:Target": {
    actions: [
      "application-autoscaling:RegisterScalableTarget",
      "application-autoscaling:DeregisterScalableTarget",
      "application-autoscaling:DescribeScalableTargets",
      "application-autoscaling:TagResource",
    ],
    also: () => [
      {
        actions: ["iam:CreateServiceLinkedRole"],
        arns: [
          `arn:aws:iam::${ACCOUNT}:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService`,
        ],
      },
    ],
  },
  "aws:appautoscaling/policy:Policy": {
    actions: [
      "application-autoscaling:PutScalingPolicy",
      "application-autoscaling:DeleteScalingPolicy",
      "application-autoscaling:DescribeScalingPolicies",
    ],
  },
  "aws:scheduler/schedule:Schedule": {
    actions: [
      "scheduler:CreateSchedule",
      "scheduler:UpdateSchedule",
      "scheduler:DeleteSchedule",
      "scheduler:GetSchedule",
    ],
    arns: (r) => [arn("scheduler", `schedule/default/${String(r.inputs.namePrefix)}20261125`)],
    also: (r) => passRole((r.inputs.target as any)?.roleArn),
  },
  "aws:sns/topic:Topic": {
    actions: [
      "sns:CreateTopic",
      "sns:DeleteTopic",
      "sns:GetTopicAttributes",
      "sns:SetTopicAttributes",
      "sns:TagResource",
      "sns:ListTagsForResource",
    ],
    arns: (r) => [arn("sns", auto(r))],
  },
  "aws:sns/topicPolicy:TopicPolicy": {
    actions: ["sns:SetTopicAttributes", "sns:GetTopicAttributes"],
    arns: (r) => [arn("sns", auto(r))],
  },
  "aws:sns/topicSubscription:TopicSubscription": {
    actions: [
      "sns:Subscribe",
      "sns:Unsubscribe",
      "sns:GetSubscriptionAttributes",
      "sns:SetSubscriptionAttributes",
    ],
    arns: () => [arn("sns", "observability-alarms-1a2b3c4")],
  },
  "aws:sqs/queue:Queue": {
    actions: [
      "sqs:CreateQueue",
      "sqs:DeleteQueue",
      "sqs:GetQueueAttributes",
      "sqs:SetQueueAttributes",
      "sqs:TagQueue",
      "sqs:ListQueueTags",
    ],
    arns: (r) => [arn("sqs", auto(r))],
  },
  "aws:sqs/queuePolicy:QueuePolicy": {
    actions: ["sqs:SetQueueAttributes", "sqs:GetQueueAttributes"],
    arns: (r) => [arn("sqs", auto(r))],
  },
  "aws:cloudwatch/metricAlarm:MetricAlarm": {
    actions: [
      "cloudwatch:PutMetricAlarm",
      "cloudwatch:DeleteAlarms",
      "cloudwatch:DescribeAlarms",
      "cloudwatch:TagResource",
      "cloudwatch:ListTagsForResource",
    ],
    arns: (r) => [arn("cloudwatch", `alarm:${auto(r)}`)],
  },
  "aws:cloudwatch/dashboard:Dashboard": {
    actions: ["cloudwatch:PutDashboard", "cloudwatch:GetDashboard", "cloudwatch:DeleteDashboards"],
    arns: (r) => [`arn:aws:cloudwatch::${ACCOUNT}:dashboard/${String(r.inputs.dashboardName)}`],
  },
  "aws:cloudwatch/eventRule:EventRule": {
    actions: [
      "events:PutRule",
      "events:DeleteRule",
      "events:DescribeRule",
      "events:TagResource",
      "events:ListTagsForResource",
    ],
    arns: (r) => [arn("events", `rule/${auto(r)}`)],
  },
  "aws:cloudwatch/eventTarget:EventTarget": {
    actions: ["events:PutTargets", "events:RemoveTargets", "events:ListTargetsByRule"],
    arns: (r) => [arn("events", `rule/${auto(r)}`)],
  },
  "aws:glue/catalogDatabase:CatalogDatabase": {
    actions: [
      "glue:CreateDatabase",
      "glue:GetDatabase",
      "glue:UpdateDatabase",
      "glue:DeleteDatabase",
      "glue:GetTags",
      "glue:TagResource",
    ],
    arns: (r) => [arn("glue", `database/${String(r.inputs.name)}`), arn("glue", "catalog")],
  },
  "aws:glue/catalogTable:CatalogTable": {
    actions: ["glue:CreateTable", "glue:GetTable", "glue:UpdateTable", "glue:DeleteTable"],
    arns: (r) => [
      arn("glue", `table/${String(r.inputs.databaseName)}/${String(r.inputs.name)}`),
      arn("glue", `database/${String(r.inputs.databaseName)}`),
    ],
  },
  "aws:athena/workgroup:Workgroup": {
    actions: [
      "athena:CreateWorkGroup",
      "athena:GetWorkGroup",
      "athena:UpdateWorkGroup",
      "athena:DeleteWorkGroup",
      "athena:TagResource",
      "athena:ListTagsForResource",
    ],
    arns: (r) => [arn("athena", `workgroup/${String(r.inputs.name)}`)],
  },
  "aws:lambda/function:Function": {
    actions: [
      "lambda:CreateFunction",
      "lambda:GetFunction",
      "lambda:GetFunctionCodeSigningConfig",
      "lambda:UpdateFunctionCode",
      "lambda:UpdateFunctionConfiguration",
      "lambda:DeleteFunction",
      "lambda:ListVersionsByFunction",
      "lambda:TagResource",
      "lambda:ListTags",
    ],
    arns: (r) => [arn("lambda", `function:${auto(r)}`)],
    also: (r) => passRole(`${String(r.inputs.role)}-1a2b3c4`),
  },
  "aws:lambda/permission:Permission": {
    actions: ["lambda:AddPermission", "lambda:RemovePermission", "lambda:GetPolicy"],
    arns: (r) => [arn("lambda", `function:${String(r.inputs.function)}-1a2b3c4`)],
  },
};

/** The invokes (data sources) the program calls and the rights each needs. */
export const INVOKE_NEEDS: Record<string, Needs> = {
  "aws:index/getAvailabilityZones:getAvailabilityZones": { actions: ["ec2:DescribeAvailabilityZones"] },
  "aws:index/getCallerIdentity:getCallerIdentity": { actions: [] }, // STS answers it for any principal
  "aws:ec2/getPrefixList:getPrefixList": { actions: ["ec2:DescribePrefixLists"] },
  "aws:ec2/getVpc:getVpc": { actions: ["ec2:DescribeVpcs"] },
  "aws:ecr/getAuthorizationToken:getAuthorizationToken": { actions: ["ecr:GetAuthorizationToken"] },
  "aws:secretsmanager/getSecretVersion:getSecretVersion": {
    actions: ["secretsmanager:GetSecretValue"],
    arns: (r) => [String(r.inputs.secretId)],
  },
  "aws:ssm/getParameter:getParameter": {
    actions: ["ssm:GetParameter"],
    arns: (r) => [`arn:aws:ssm:${REGION}::parameter${String(r.inputs.name)}`],
  },
};

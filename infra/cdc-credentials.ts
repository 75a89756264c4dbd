// The CDC role's credentials: a generated password kept in Secrets Manager, readable by the
// Connect workers (the source connector references it as a config-provider placeholder).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

export interface CdcCredentialsArgs {
  /** Login role the password belongs to. */
  username: string;
  /** Ephemeral stack: the secret is deleted without a recovery window. Defaults to false. */
  ephemeral?: boolean;
  /** Tags for every resource. Defaults to none. */
  tags?: Record<string, string>;
}

/**
 * `${secretsmanager:<secret name>:<json key>}`: resolved by the Connect workers' config provider. By the
 * secret's name, not its ARN: Kafka's ConfigTransformer ends the path at the second colon of the
 * placeholder, so an ARN (`arn:aws:secretsmanager:...`) would be read as path `arn`. Names hold no colon.
 */
export function secretsManagerPlaceholder(secretName: string, key: string): string {
  if (/[:{}]/.test(secretName) || /[:{}]/.test(key)) {
    throw new Error(
      `cannot reference Secrets Manager secret "${secretName}" key "${key}" in a Kafka config-provider ` +
        "placeholder: Kafka splits ${provider:path:key} at colons, so neither may hold ':', '{' or '}' " +
        "(use the secret's name, not its ARN)",
    );
  }
  return `\${secretsmanager:${secretName}:${key}}`;
}

export class CdcCredentials extends pulumi.ComponentResource {
  readonly username: string;
  /** The generated password (a secret output). */
  readonly password: pulumi.Output<string>;
  /** Secret with `username` and `password` (JSON); IAM grants read access to it by this ARN. */
  readonly secretArn: pulumi.Output<string>;
  /** The secret's name (`<project>/<stack>/<user>-<suffix>`), which the placeholder references. */
  readonly secretName: pulumi.Output<string>;
  /** `${secretsmanager:<secret name>:password}`. */
  readonly passwordPlaceholder: pulumi.Output<string>;

  constructor(name: string, args: CdcCredentialsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cdc:database:CdcCredentials", name, {}, opts);
    this.username = args.username;
    const password = new random.RandomPassword(
      `${name}-password`,
      { length: 40, special: false },
      { parent: this },
    );
    this.password = password.result;
    const secret = new aws.secretsmanager.Secret(
      `${name}-secret`,
      {
        namePrefix: `${pulumi.getProject()}/${pulumi.getStack()}/${args.username}-`,
        description: `Password of the PostgreSQL role ${args.username} (Debezium source connector)`,
        recoveryWindowInDays: args.ephemeral ? 0 : 7,
        tags: args.tags,
      },
      { parent: this },
    );
    new aws.secretsmanager.SecretVersion(
      `${name}-secret-value`,
      {
        secretId: secret.id,
        secretString: pulumi.jsonStringify({ username: args.username, password: password.result }),
      },
      { parent: this },
    );
    this.secretArn = secret.arn;
    this.secretName = secret.name;
    this.passwordPlaceholder = secret.name.apply((secretName) =>
      secretsManagerPlaceholder(secretName, "password"),
    );
    this.registerOutputs({ secretArn: this.secretArn });
  }
}

// The policy pack: `pulumi preview --policy-pack infra/policy` enforces the stack's security rules
// on any stack of this project (docs/deploy.md). The rules themselves live in the two modules below.
import { PolicyPack } from "@pulumi/policy";
import { resourcePolicies } from "./resource-policies";
import { stackPolicies } from "./stack-policies";

new PolicyPack("cdc-pipeline-security", {
  policies: [...resourcePolicies, ...stackPolicies],
});

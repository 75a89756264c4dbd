export * from "./iam";
export * from "./logs";
export * from "./naming";
export * from "./ecs";
export * from "./bucket-guards";

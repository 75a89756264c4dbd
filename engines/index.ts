export * from "./cache";
export * from "./kafka-cluster";
export * from "./progress";
export * from "./provision";
export * from "./pulumi-engine";
export * from "./versions";
export * from "./kafka-records";
export * from "./moto";

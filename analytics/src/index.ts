export * from "./job";
export { encodingsFromAvroSchema, AVRO_SCHEMA_KEY } from "./decode/avro";
export { discoverSourceFiles, parseSourceKey, topicOf } from "./discovery";
export type { SourceFile } from "./discovery";
export { openStorage } from "./storage";
export { DEFAULT_MEMORY_LIMIT } from "./duck";
export type { Storage, StoredObject } from "./storage";

/** Exactly the JSON Kafka Connect takes in `POST /connectors`: a name and a flat string map. */
export interface ConnectorConfig {
  name: string;
  config: Record<string, string>;
}

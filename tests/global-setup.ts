// Before any test file runs: provision the real engines once (Kafka, Connect, Debezium, the Pulumi CLI and its
// YAML language host, moto's AWS API emulator; cached after the first run), so test files running in parallel
// never build them concurrently and a missing JDK, Maven, Go or Python fails the run at once.
import { createProgress, ensureKafkaEngines, ensureMoto, ensurePulumiCli } from "../engines";

export default async function provisionEngines(): Promise<void> {
  const progress = createProgress("test-engines");
  await Promise.all([ensureKafkaEngines(progress), ensurePulumiCli(progress), ensureMoto(progress)]);
}

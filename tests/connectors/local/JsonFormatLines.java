import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.json.JsonConverter;

/**
 * What Kafka's own JsonConverter makes of topic records, for json-converter.test.ts. Reads one record per
 * line from stdin as the topic holds it (JsonConverter with schemas: {"schema", "payload"}), reads it back as
 * the sink task's value converter does, and prints three lines per record: the record written again with
 * schemas (the topic form), then the value as the S3 sink's JsonFormat writes it (schemas.enable=false) with
 * json.decimal.format NUMERIC, then with BASE64.
 */
public class JsonFormatLines {
    public static void main(String[] args) throws Exception {
        JsonConverter topic = converter(true, "BASE64");
        JsonConverter[] writers = {topic, converter(false, "NUMERIC"), converter(false, "BASE64")};
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, "UTF-8");
        for (String line; (line = in.readLine()) != null; ) {
            SchemaAndValue record = topic.toConnectData("topic", line.getBytes(StandardCharsets.UTF_8));
            for (JsonConverter writer : writers) {
                byte[] json = writer.fromConnectData("topic", record.schema(), record.value());
                out.println(new String(json, StandardCharsets.UTF_8));
            }
        }
    }

    private static JsonConverter converter(boolean schemas, String decimalFormat) {
        JsonConverter converter = new JsonConverter();
        converter.configure(Map.of("schemas.enable", String.valueOf(schemas), "decimal.format", decimalFormat), false);
        return converter;
    }
}

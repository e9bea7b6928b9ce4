// Stand-in for a Confluent class (Confluent repository only, not Maven Central) that clescot's HTTP sink
// links against; used only with publish.mode=PRODUCER, which the benchmark does not set. See pom.xml.
package io.confluent.kafka.schemaregistry.json;

public class JsonSchema implements io.confluent.kafka.schemaregistry.ParsedSchema {
  public JsonSchema(String schema) {
    throw new UnsupportedOperationException("Confluent JSON Schema stand-in (benchmark)");
  }
}

// Stand-in for a Confluent class (Confluent repository only, not Maven Central) that clescot's HTTP sink
// links against; used only with publish.mode=PRODUCER, which the benchmark does not set. See pom.xml.
package io.confluent.kafka.schemaregistry;

public interface ParsedSchema {}

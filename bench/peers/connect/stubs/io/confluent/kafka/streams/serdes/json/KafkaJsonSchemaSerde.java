// Stand-in for a Confluent class (Confluent repository only, not Maven Central) that clescot's HTTP sink
// links against; used only with publish.mode=PRODUCER, which the benchmark does not set. See pom.xml.
package io.confluent.kafka.streams.serdes.json;

public class KafkaJsonSchemaSerde<T> implements org.apache.kafka.common.serialization.Serde<T> {
  public KafkaJsonSchemaSerde() {
    throw new UnsupportedOperationException("Confluent serde stand-in (benchmark): publish.mode=PRODUCER is not supported");
  }

  @Override
  public org.apache.kafka.common.serialization.Serializer<T> serializer() {
    throw new UnsupportedOperationException();
  }

  @Override
  public org.apache.kafka.common.serialization.Deserializer<T> deserializer() {
    throw new UnsupportedOperationException();
  }
}

// Stand-in for a Confluent class (Confluent repository only, not Maven Central) that clescot's HTTP sink
// links against; used only with publish.mode=PRODUCER, which the benchmark does not set. See pom.xml.
package io.confluent.kafka.serializers;

public class KafkaJsonSerializer<T> implements org.apache.kafka.common.serialization.Serializer<T> {
  public KafkaJsonSerializer() {
    throw new UnsupportedOperationException("Confluent serializer stand-in (benchmark): publish.mode=PRODUCER is not supported");
  }

  @Override
  public byte[] serialize(String topic, T data) {
    throw new UnsupportedOperationException();
  }
}

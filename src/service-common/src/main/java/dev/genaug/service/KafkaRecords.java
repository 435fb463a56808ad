package dev.genaug.service;

import com.google.protobuf.MessageLite;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import org.eclipse.microprofile.reactive.messaging.Message;

/** Outgoing Kafka records: a string key and a protobuf value. */
public final class KafkaRecords {
    private KafkaRecords() {}

    public static Message<byte[]> keyed(String key, MessageLite value) {
        return Message.of(value.toByteArray())
                .addMetadata(OutgoingKafkaRecordMetadata.<String>builder()
                        .withKey(key)
                        .build());
    }
}

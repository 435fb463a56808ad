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

    /** The same, to a topic chosen per record instead of the channel's. */
    public static Message<byte[]> keyed(String key, MessageLite value, String topic) {
        return Message.of(value.toByteArray())
                .addMetadata(OutgoingKafkaRecordMetadata.<String>builder()
                        .withKey(key)
                        .withTopic(topic)
                        .build());
    }
}

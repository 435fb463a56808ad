package dev.genaug.service;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Parser;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Incoming protobuf record values. A record that does not parse cannot be attributed to a job, so
 * it is logged (with the topic's expected type) and skipped rather than failing the channel.
 */
public final class KafkaPayloads {
    private static final Logger LOG = Logger.getLogger(KafkaPayloads.class);

    private KafkaPayloads() {}

    public static <T> Optional<T> parse(byte[] payload, Parser<T> parser, String expectedType) {
        try {
            return Optional.of(parser.parseFrom(payload));
        } catch (InvalidProtocolBufferException e) {
            LOG.errorf("dropping a record that is not a %s: %s", expectedType, e.getMessage());
            return Optional.empty();
        }
    }
}

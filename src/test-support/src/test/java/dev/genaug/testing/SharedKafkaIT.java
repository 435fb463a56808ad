package dev.genaug.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(KafkaExtension.class)
class SharedKafkaIT {

    @Test
    void shouldRoundTripRecordsThroughTheSharedBroker(TopicProbe probe) {
        String key = "job-" + UUID.randomUUID();
        probe.send("genaug.progress.v1", key, "hello".getBytes(StandardCharsets.UTF_8));
        var got = probe.await("genaug.progress.v1", r -> r.key().equals(key), 1, Duration.ofSeconds(30));
        assertThat(got)
                .singleElement()
                .satisfies(r -> assertThat(new String(r.value(), StandardCharsets.UTF_8))
                        .isEqualTo("hello"));
        assertThat(SharedKafka.kind()).isIn("embedded", "container");
    }
}

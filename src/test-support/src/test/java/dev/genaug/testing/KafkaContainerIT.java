package dev.genaug.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genaug.kafka.ProjectFiles;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;

/** The same topic definitions on a broker in a container; skipped where no Docker engine runs. */
@Testcontainers(disabledWithoutDocker = true)
class KafkaContainerIT {
    @Container
    static final KafkaContainer KAFKA = new KafkaContainer(SharedKafka.IMAGE);

    @Test
    void shouldApplyTopicDefinitionsAndDeliverRecordsInAContainer() {
        try (Admin admin =
                Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.getBootstrapServers()))) {
            assertThat(ProjectFiles.topics().apply(admin, (short) 1)).allMatch(l -> l.startsWith("created "));
        }
        TopicProbe probe = new TopicProbe(KAFKA.getBootstrapServers());
        probe.send("genaug.jobs.v1", "k", "v".getBytes(StandardCharsets.UTF_8));
        assertThat(probe.await("genaug.jobs.v1", r -> r.key().equals("k"), 1, Duration.ofSeconds(30)))
                .hasSize(1);
    }
}

package dev.genaug.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TopicDefinitionsTest {

    @Test
    void shouldDefineEveryPipelineTopicWithPartitionsAndRetention() {
        TopicDefinitions defs = ProjectFiles.topics();
        assertThat(defs.topics())
                .extracting(TopicDefinitions.Topic::name)
                .containsExactlyInAnyOrder(
                        "genaug.jobs.v1",
                        "genaug.latents.v1",
                        "genaug.latents.labelled.v1",
                        "genaug.generated.v1",
                        "genaug.labelled.v1",
                        "genaug.progress.v1");
        assertThat(defs.topics()).allSatisfy(t -> {
            assertThat(t.partitions()).isPositive();
            assertThat(t.config()).containsKey("retention.ms");
            assertThat(t.replicationFactor()).isEqualTo((short) 1);
        });
        assertThat(defs.topic("genaug.generated.v1").config()).containsEntry("max.message.bytes", "16777216");
    }

    @Test
    void shouldRejectUnknownKeysAndMissingPartitions(@TempDir Path dir) throws IOException {
        Path typo = dir.resolve("typo.yaml");
        Files.writeString(typo, "topics:\n  - name: a\n    partitons: 3\n");
        assertThatThrownBy(() -> TopicDefinitions.load(typo)).hasMessageContaining("partitons");
        Path missing = dir.resolve("missing.yaml");
        Files.writeString(missing, "topics:\n  - name: a\n");
        assertThatThrownBy(() -> TopicDefinitions.load(missing)).hasMessageContaining("partitions >= 1");
    }
}

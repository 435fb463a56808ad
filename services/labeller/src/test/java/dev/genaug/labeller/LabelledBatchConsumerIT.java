package dev.genaug.labeller;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genaug.api.common.v1.ModelRef;
import dev.genaug.api.common.v1.SampleRange;
import dev.genaug.api.events.v1.JobProgress;
import dev.genaug.api.events.v1.JobState;
import dev.genaug.api.events.v1.LatentBatch;
import dev.genaug.domain.tensor.Tensors;
import dev.genaug.testing.KafkaTestResource;
import dev.genaug.testing.SharedKafka;
import dev.genaug.testing.TopicProbe;
import dev.genaug.testing.ToyModelRepository;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The labeller consuming labelled latent batches and reporting through a real broker. */
@QuarkusTest
@QuarkusTestResource(value = ToyModelRepository.class, restrictToAnnotatedClass = true)
@QuarkusTestResource(KafkaTestResource.class)
class LabelledBatchConsumerIT {
    private final TopicProbe probe = new TopicProbe(SharedKafka.bootstrapServers());

    @Test
    void shouldFailTheJobNamingTheUnknownLabeller() throws Exception {
        LatentBatch batch = LatentBatch.newBuilder()
                .setJobId("it-" + UUID.randomUUID())
                .setRange(SampleRange.newBuilder().setStart(4).setCount(1))
                .setModel(ModelRef.newBuilder().setName("toy-generator").setVersion("2"))
                .setLabeller(ModelRef.newBuilder().setName("no-labeller"))
                .setLatents(Tensors.fp32(new float[8], 1, 8))
                .build();
        probe.send("genaug.latents.labelled.v1", batch.getJobId() + "/00000000000000000004", batch.toByteArray());
        var got = probe.await("genaug.progress.v1", r -> r.key().equals(batch.getJobId()), 1, Duration.ofSeconds(60));
        assertThat(got).hasSize(1);
        JobProgress p = JobProgress.parseFrom(got.getFirst().value());
        assertThat(p.getStage()).isEqualTo("labeller");
        assertThat(p.getState()).isEqualTo(JobState.JOB_STATE_FAILED);
        assertThat(p.getMessage()).contains("'no-labeller'");
        assertThat(p.getRange().getStart()).isEqualTo(4);
    }
}

package dev.genaug.generator;

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

/** The generator consuming latent batches and reporting through a real broker. */
@QuarkusTest
@QuarkusTestResource(ToyModelRepository.class)
@QuarkusTestResource(KafkaTestResource.class)
class LatentBatchConsumerIT {
    private final TopicProbe probe = new TopicProbe(SharedKafka.bootstrapServers());

    private JobProgress sendAndAwaitReport(LatentBatch batch) throws Exception {
        probe.send("genaug.latents.v1", batch.getJobId() + "/00000000000000000000", batch.toByteArray());
        var got = probe.await("genaug.progress.v1", r -> r.key().equals(batch.getJobId()), 1, Duration.ofSeconds(60));
        assertThat(got).hasSize(1);
        return JobProgress.parseFrom(got.getFirst().value());
    }

    private static LatentBatch.Builder batch(String model) {
        return LatentBatch.newBuilder()
                .setJobId("it-" + UUID.randomUUID())
                .setRange(SampleRange.newBuilder().setStart(0).setCount(2))
                .setModel(ModelRef.newBuilder().setName(model).setVersion("1"))
                .setLatents(Tensors.fp32(new float[16], 2, 8));
    }

    @Test
    void shouldFailTheJobNamingTheMissingModel() throws Exception {
        JobProgress p = sendAndAwaitReport(batch("gone").build());
        assertThat(p.getStage()).isEqualTo("generator");
        assertThat(p.getState()).isEqualTo(JobState.JOB_STATE_FAILED);
        assertThat(p.getMessage()).contains("'gone'");
        assertThat(p.getRange().getCount()).isEqualTo(2);
    }

    @Test
    void shouldFailTheJobSayingWhatIsMissingForAValidBatch() throws Exception {
        JobProgress p = sendAndAwaitReport(batch("toy-generator").build());
        assertThat(p.getState()).isEqualTo(JobState.JOB_STATE_FAILED);
        assertThat(p.getMessage()).contains("no inference backend").contains("toy-generator");
    }

    @Test
    void shouldFailTheJobNamingTheFieldOfAMalformedBatch() throws Exception {
        JobProgress p = sendAndAwaitReport(batch("toy-generator")
                .setLatents(Tensors.fp32(new float[6], 2, 3))
                .build());
        assertThat(p.getMessage()).startsWith("latents.shape[1]");
    }
}

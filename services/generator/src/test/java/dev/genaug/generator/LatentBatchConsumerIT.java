package dev.genaug.generator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genaug.api.common.v1.ModelRef;
import dev.genaug.api.common.v1.SampleRange;
import dev.genaug.api.events.v1.GeneratedBatch;
import dev.genaug.api.events.v1.JobProgress;
import dev.genaug.api.events.v1.JobState;
import dev.genaug.api.events.v1.LatentBatch;
import dev.genaug.domain.tensor.ImageCodec;
import dev.genaug.domain.tensor.Tensors;
import dev.genaug.testing.KafkaTestResource;
import dev.genaug.testing.SharedKafka;
import dev.genaug.testing.TopicProbe;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The generator stage through a real broker: latent batches in, generated batches or failures out. */
@QuarkusTest
@QuarkusTestResource(KafkaTestResource.class)
class LatentBatchConsumerIT {
    private final TopicProbe probe = new TopicProbe(SharedKafka.bootstrapServers());

    private static LatentBatch.Builder batch(String model, int start, int count) {
        return LatentBatch.newBuilder()
                .setJobId("it-" + UUID.randomUUID())
                .setRange(SampleRange.newBuilder().setStart(start).setCount(count))
                .setModel(ModelRef.newBuilder().setName(model).setVersion("1"))
                .setLatents(Tensors.fp32(GeneratorGrpcServiceTest.latents(count), count, 32));
    }

    private JobProgress awaitFailure(LatentBatch batch) throws Exception {
        probe.send("genaug.latents.v1", batch.getJobId() + "/00000000000000000000", batch.toByteArray());
        var got = probe.await("genaug.progress.v1", r -> r.key().equals(batch.getJobId()), 1, Duration.ofSeconds(60));
        assertThat(got).hasSize(1);
        return JobProgress.parseFrom(got.getFirst().value());
    }

    @Test
    void shouldGenerateABatchIntoPngImagesKeyedLikeItsInput() throws Exception {
        LatentBatch in = batch("shapes-generator", 40, 3).build();
        String key = in.getJobId() + "/00000000000000000040";
        probe.send("genaug.latents.v1", key, in.toByteArray());
        var got = probe.await("genaug.generated.v1", r -> r.key().equals(key), 1, Duration.ofSeconds(60));
        assertThat(got).hasSize(1);
        GeneratedBatch out = GeneratedBatch.parseFrom(got.getFirst().value());
        assertThat(out.getJobId()).isEqualTo(in.getJobId());
        assertThat(out.getRange()).isEqualTo(in.getRange());
        assertThat(out.getImagesList()).hasSize(3).allSatisfy(img -> {
            assertThat(img.getWidth()).isEqualTo(64);
            assertThat(ImageCodec.decodePng(img.getPng().toByteArray(), 0f, 1f, "png")
                            .channels())
                    .isEqualTo(3);
        });
    }

    @Test
    void shouldFailTheJobNamingTheMissingModel() throws Exception {
        JobProgress p = awaitFailure(batch("gone", 0, 2).build());
        assertThat(p.getStage()).isEqualTo("generator");
        assertThat(p.getState()).isEqualTo(JobState.JOB_STATE_FAILED);
        assertThat(p.getMessage()).contains("'gone'");
        assertThat(p.getRange().getCount()).isEqualTo(2);
    }

    @Test
    void shouldFailTheJobNamingTheFieldOfAMalformedBatch() throws Exception {
        JobProgress p = awaitFailure(batch("shapes-generator", 0, 2)
                .setLatents(Tensors.fp32(new float[6], 2, 3))
                .build());
        assertThat(p.getMessage()).startsWith("latents.shape[1]");
    }
}

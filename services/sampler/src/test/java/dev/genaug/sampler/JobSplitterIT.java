package dev.genaug.sampler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genaug.api.common.v1.ModelRef;
import dev.genaug.api.events.v1.DatasetJob;
import dev.genaug.api.events.v1.JobProgress;
import dev.genaug.api.events.v1.JobState;
import dev.genaug.api.events.v1.LatentBatch;
import dev.genaug.domain.sampling.PriorSampler;
import dev.genaug.domain.tensor.Tensors;
import dev.genaug.testing.KafkaTestResource;
import dev.genaug.testing.SharedKafka;
import dev.genaug.testing.TopicProbe;
import dev.genaug.testing.ToyModelRepository;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/** The sampler consuming jobs and producing latent batches and progress through a real broker. */
@QuarkusTest
@QuarkusTestResource(ToyModelRepository.class)
@QuarkusTestResource(KafkaTestResource.class)
class JobSplitterIT {
    private final TopicProbe probe = new TopicProbe(SharedKafka.bootstrapServers());

    private static DatasetJob.Builder job(String id, long count, int batch) {
        return DatasetJob.newBuilder()
                .setJobId(id)
                .setModel(ModelRef.newBuilder().setName("toy-generator"))
                .setCount(count)
                .setSeed(99)
                .setTruncationPsi(0.5f)
                .setBatchSize(batch);
    }

    private static LatentBatch batch(ConsumerRecord<String, byte[]> r) {
        try {
            return LatentBatch.parseFrom(r.value());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static JobProgress progress(ConsumerRecord<String, byte[]> r) {
        try {
            return JobProgress.parseFrom(r.value());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void shouldSplitAJobIntoKeyedContiguousBatchesOfTheSeededLatents() {
        String id = "it-" + UUID.randomUUID();
        probe.send("genaug.jobs.v1", id, job(id, 10, 4).build().toByteArray());

        List<LatentBatch> batches =
                probe.await("genaug.latents.v1", r -> r.key().startsWith(id + "/"), 3, Duration.ofSeconds(60)).stream()
                        .peek(r -> assertThat(r.key())
                                .isEqualTo(id + "/"
                                        + String.format(
                                                "%020d", batch(r).getRange().getStart())))
                        .map(JobSplitterIT::batch)
                        .sorted(Comparator.comparingLong(b -> b.getRange().getStart()))
                        .toList();
        assertThat(batches).extracting(b -> b.getRange().getCount()).containsExactly(4, 4, 2);
        assertThat(batches).extracting(b -> b.getRange().getStart()).containsExactly(0L, 4L, 8L);
        PriorSampler expected = PriorSampler.create(ToyModelRepository.LATENT_DIMENSION, 0.5f, 0f, "");
        for (LatentBatch b : batches) {
            assertThat(b.getModel().getVersion()).isEqualTo("2");
            assertThat(Tensors.toFloats(b.getLatents(), "latents"))
                    .containsExactly(expected.sample(
                            99, b.getRange().getStart(), b.getRange().getCount()));
            assertThat(b.getProvenanceList())
                    .extracting(p -> p.getSampleIndex())
                    .containsExactlyElementsOf(java.util.stream.LongStream.range(
                                    b.getRange().getStart(),
                                    b.getRange().getStart() + b.getRange().getCount())
                            .boxed()
                            .toList());
        }
        List<JobProgress> reports =
                probe.await("genaug.progress.v1", r -> r.key().equals(id), 2, Duration.ofSeconds(30)).stream()
                        .map(JobSplitterIT::progress)
                        .toList();
        assertThat(reports).allSatisfy(p -> {
            assertThat(p.getStage()).isEqualTo("sampler");
            assertThat(p.getState()).isEqualTo(JobState.JOB_STATE_RUNNING);
        });
        assertThat(reports).extracting(JobProgress::getSamplesDone).contains(10L);
    }

    @Test
    void shouldRouteLabelledJobsToTheLabelledTopic() {
        String id = "it-" + UUID.randomUUID();
        probe.send(
                "genaug.jobs.v1",
                id,
                job(id, 3, 64)
                        .setLabeller(ModelRef.newBuilder().setName("toy-labeller"))
                        .build()
                        .toByteArray());
        var got =
                probe.await("genaug.latents.labelled.v1", r -> r.key().startsWith(id + "/"), 1, Duration.ofSeconds(60));
        assertThat(got)
                .singleElement()
                .satisfies(r -> assertThat(batch(r).getLabeller().getName()).isEqualTo("toy-labeller"));
    }

    @Test
    void shouldFailTheJobNamingTheModelWhenItDoesNotExist() {
        String id = "it-" + UUID.randomUUID();
        probe.send(
                "genaug.jobs.v1",
                id,
                job(id, 5, 2)
                        .setModel(ModelRef.newBuilder().setName("no-such-model"))
                        .build()
                        .toByteArray());
        var got = probe.await("genaug.progress.v1", r -> r.key().equals(id), 1, Duration.ofSeconds(60));
        assertThat(got).singleElement().satisfies(r -> {
            JobProgress p = progress(r);
            assertThat(p.getState()).isEqualTo(JobState.JOB_STATE_FAILED);
            assertThat(p.getMessage()).contains("'no-such-model'");
        });
        assertThat(probe.collect("genaug.latents.v1", r -> r.key().startsWith(id + "/"), Duration.ofSeconds(2)))
                .isEmpty();
    }
}

package dev.genaug.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.util.JsonFormat;
import dev.genaug.api.common.v1.Image;
import dev.genaug.api.common.v1.ModelRef;
import dev.genaug.api.common.v1.Provenance;
import dev.genaug.api.common.v1.SampleRange;
import dev.genaug.api.dataset.v1.DatasetManifest;
import dev.genaug.api.dataset.v1.StreamedSample;
import dev.genaug.api.events.v1.DatasetJob;
import dev.genaug.api.events.v1.GeneratedBatch;
import dev.genaug.api.events.v1.JobProgress;
import dev.genaug.api.events.v1.JobState;
import dev.genaug.api.gateway.v1.CancelJobRequest;
import dev.genaug.api.gateway.v1.DatasetServiceGrpc;
import dev.genaug.api.gateway.v1.JobStatus;
import dev.genaug.api.gateway.v1.ListJobsRequest;
import dev.genaug.api.gateway.v1.SubmitJobRequest;
import dev.genaug.api.gateway.v1.WatchJobRequest;
import dev.genaug.domain.tensor.ImageCodec;
import dev.genaug.testing.GrpcChannels;
import dev.genaug.testing.KafkaTestResource;
import dev.genaug.testing.SharedKafka;
import dev.genaug.testing.TopicProbe;
import dev.genaug.testing.ToyModelRepository;
import io.grpc.ManagedChannel;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Jobs through the gateway and a real broker: enqueued on the jobs topic, tracked from progress. */
@QuarkusTest
@QuarkusTestResource(ToyModelRepository.class)
@QuarkusTestResource(KafkaTestResource.class)
class DatasetJobsIT {
    @TestHTTPResource("/")
    URL root;

    private final TopicProbe probe = new TopicProbe(SharedKafka.bootstrapServers());
    ManagedChannel channel;
    DatasetServiceGrpc.DatasetServiceBlockingStub datasets;

    @BeforeEach
    void connect() {
        channel = GrpcChannels.to(root);
        datasets = DatasetServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    @AfterEach
    void close() {
        channel.shutdownNow();
    }

    private String submit(long count) {
        return datasets.submitJob(SubmitJobRequest.newBuilder()
                        .setJob(GatewayGrpcServiceTest.job().setCount(count))
                        .build())
                .getJobId();
    }

    /** Submits the job with that output folder; returns it as the gateway accepted it (with its id). */
    private DatasetJob submitInto(Path out, DatasetJob.Builder job) {
        return datasets.submitJob(SubmitJobRequest.newBuilder()
                        .setJob(job.setOutput(out.toString()))
                        .build())
                .getStatus()
                .getJob();
    }

    private void report(String id, String stage, JobState state, long done, String message) {
        probe.send(
                "genaug.progress.v1",
                id,
                JobProgress.newBuilder()
                        .setJobId(id)
                        .setStage(stage)
                        .setState(state)
                        .setSamplesDone(done)
                        .setMessage(message)
                        .build()
                        .toByteArray());
    }

    @Test
    void shouldPublishTheSubmittedJobKeyedByItsId() throws Exception {
        String id = submit(42);
        var got = probe.await("genaug.jobs.v1", r -> r.key().equals(id), 1, Duration.ofSeconds(30));
        assertThat(got).hasSize(1);
        DatasetJob job = DatasetJob.parseFrom(got.getFirst().value());
        assertThat(job.getJobId()).isEqualTo(id);
        assertThat(job.getCount()).isEqualTo(42);
        assertThat(job.getModel().getName()).isEqualTo("toy-generator");
    }

    @Test
    void shouldStreamProgressUntilTheWriterCompletesTheJob() {
        String id = submit(10);
        var stream = datasets.watchJob(WatchJobRequest.newBuilder().setJobId(id).build());
        assertThat(stream.next().getState()).isEqualTo(JobState.JOB_STATE_QUEUED);
        report(id, "sampler", JobState.JOB_STATE_RUNNING, 0, "");
        report(id, "writer", JobState.JOB_STATE_RUNNING, 4, "");
        report(id, "writer", JobState.JOB_STATE_RUNNING, 10, "");
        List<JobStatus> seen = new ArrayList<>();
        stream.forEachRemaining(seen::add);
        assertThat(seen)
                .extracting(JobStatus::getState)
                .containsExactly(JobState.JOB_STATE_RUNNING, JobState.JOB_STATE_RUNNING, JobState.JOB_STATE_SUCCEEDED);
        assertThat(seen.get(1).getSamplesDone()).isEqualTo(4);
        assertThat(seen.getLast().getSamplesDone()).isEqualTo(10);
    }

    @Test
    void shouldShowAStagesFailureReasonInWatchJob() {
        String id = submit(10);
        report(id, "sampler", JobState.JOB_STATE_FAILED, 0, "job.model: model 'x' is not in the model repository");
        var stream = datasets.watchJob(WatchJobRequest.newBuilder().setJobId(id).build());
        JobStatus last = lastStatus(stream);
        assertThat(last.getState()).isEqualTo(JobState.JOB_STATE_FAILED);
        assertThat(last.getMessage()).isEqualTo("sampler: job.model: model 'x' is not in the model repository");
    }

    @Test
    void shouldAnnounceCancellationOnTheProgressTopic() throws Exception {
        String id = submit(10);
        datasets.cancelJob(CancelJobRequest.newBuilder().setJobId(id).build());
        var got = probe.await("genaug.progress.v1", r -> r.key().equals(id), 1, Duration.ofSeconds(30));
        assertThat(got).hasSize(1);
        JobProgress p = JobProgress.parseFrom(got.getFirst().value());
        assertThat(p.getStage()).isEqualTo("gateway");
        assertThat(p.getState()).isEqualTo(JobState.JOB_STATE_CANCELLED);
    }

    /** The job as ListJobs shows it (with the output folder the gateway chose). */
    private DatasetJob listedJob(String id) {
        return datasets.listJobs(ListJobsRequest.getDefaultInstance()).getJobsList().stream()
                .filter(s -> s.getJob().getJobId().equals(id))
                .findFirst()
                .orElseThrow()
                .getJob();
    }

    /** Reads a WatchJob stream to its end: the job's final status. */
    private static JobStatus lastStatus(Iterator<JobStatus> stream) {
        JobStatus last = null;
        while (stream.hasNext()) {
            last = stream.next();
        }
        return last;
    }

    private static GeneratedBatch generated(DatasetJob job, long start, int count) {
        GeneratedBatch.Builder b = GeneratedBatch.newBuilder()
                .setJobId(job.getJobId())
                .setJob(job)
                .setRange(SampleRange.newBuilder().setStart(start).setCount(count))
                .setModel(ModelRef.newBuilder().setName("toy-generator").setVersion("1"));
        for (long i = start; i < start + count; i++) {
            byte[] chw = new byte[3 * 2 * 2];
            java.util.Arrays.fill(chw, (byte) i);
            b.addImages(Image.newBuilder()
                    .setPng(ByteString.copyFrom(ImageCodec.encodePng(chw, 3, 2, 2)))
                    .setWidth(2)
                    .setHeight(2)
                    .setChannels(3));
            b.addProvenance(Provenance.newBuilder().setModel("toy-generator").setSampleIndex(i));
        }
        return b.build();
    }

    private void deliver(GeneratedBatch batch) {
        probe.send(
                "genaug.generated.v1", batch.getJobId() + "/" + batch.getRange().getStart(), batch.toByteArray());
    }

    @Test
    void shouldWriteShardsManifestAndPreviewFromGeneratedBatchesAndSucceed() throws Exception {
        Path out = Files.createTempDirectory(Path.of("target"), "job-").toAbsolutePath();
        DatasetJob job = submitInto(
                out,
                GatewayGrpcServiceTest.job()
                        .setCount(10)
                        .setShardSize(4)
                        .setOutputTopic("it-samples-" + System.nanoTime()));
        assertThat(job.getOutput()).isEqualTo(out.toString());
        var stream = datasets.watchJob(
                WatchJobRequest.newBuilder().setJobId(job.getJobId()).build());
        deliver(generated(job, 5, 5));
        deliver(generated(job, 0, 5));
        deliver(generated(job, 5, 5)); // a redelivery
        JobStatus last = lastStatus(stream);
        assertThat(last.getState()).isEqualTo(JobState.JOB_STATE_SUCCEEDED);
        assertThat(last.getMessage()).isEqualTo("10 samples written to " + out);
        try (var files = Files.list(out)) {
            assertThat(files.map(p -> p.getFileName().toString()).sorted())
                    .containsExactly(
                            "manifest.json", "preview.png", "shard-000000.tar", "shard-000001.tar", "shard-000002.tar");
        }
        var samples = probe.await(job.getOutputTopic(), r -> true, 10, Duration.ofSeconds(30));
        assertThat(samples.stream().map(r -> r.key()).distinct()).hasSize(10);
        StreamedSample first = StreamedSample.parseFrom(samples.getFirst().value());
        assertThat(first.getJobId()).isEqualTo(job.getJobId());
        assertThat(first.getMetadata().getKey()).isEqualTo(String.format("%09d", first.getIndex()));
        assertThat(first.hasMask()).isFalse();
        assertThat(first.getClassNamesList()).isEmpty();
    }

    /**
     * A labelled batch as the labeller service sends it: sample i's mask holds i % 3 everywhere, its
     * uncertainty is i / 100, and sample 2 is dropped by the filter.
     */
    private static GeneratedBatch labelled(DatasetJob job, long start, int count) {
        GeneratedBatch.Builder b = generated(job, start, count).toBuilder()
                .setLabeller(ModelRef.newBuilder().setName("toy-labeller").setVersion("1"))
                .setLabellerSha256("cd".repeat(32))
                .addAllClassNames(List.of("background", "body", "wheel"));
        for (long i = start; i < start + count; i++) {
            byte[] mask = new byte[4];
            java.util.Arrays.fill(mask, (byte) (i % 3));
            b.addMasks(Image.newBuilder()
                            .setPng(ByteString.copyFrom(ImageCodec.encodePng(mask, 1, 2, 2)))
                            .setWidth(2)
                            .setHeight(2)
                            .setChannels(1))
                    .addUncertainty(i / 100f)
                    .addDropped(i == 2);
        }
        return b.build();
    }

    @Test
    void shouldStreamOnlyTheKeptSamplesWithTheirMasksAndClassNamesWhenTheJobIsLabelled() throws Exception {
        Path out = Files.createTempDirectory(Path.of("target"), "job-").toAbsolutePath();
        DatasetJob job = submitInto(
                out,
                GatewayGrpcServiceTest.job()
                        .setCount(6)
                        .setShardSize(4)
                        .setLabeller(ModelRef.newBuilder().setName("toy-labeller"))
                        .setOutputTopic("it-labelled-" + System.nanoTime()));
        var stream = datasets.watchJob(
                WatchJobRequest.newBuilder().setJobId(job.getJobId()).build());
        GeneratedBatch first = labelled(job, 0, 3);
        GeneratedBatch second = labelled(job, 3, 3);
        deliver(second);
        deliver(first);

        assertThat(lastStatus(stream).getState()).isEqualTo(JobState.JOB_STATE_SUCCEEDED);
        DatasetManifest.Builder manifest = DatasetManifest.newBuilder();
        JsonFormat.parser().merge(Files.readString(out.resolve("manifest.json")), manifest);
        assertThat(manifest.getSamples()).isEqualTo(5);
        assertThat(manifest.getDropped()).isEqualTo(1);
        assertThat(manifest.getClassNamesList()).containsExactly("background", "body", "wheel");
        // Every send was acknowledged before the job could succeed: the topic is complete.
        List<StreamedSample> streamed = new ArrayList<>();
        for (var r : probe.collect(job.getOutputTopic(), r -> true, Duration.ofSeconds(3))) {
            streamed.add(StreamedSample.parseFrom(r.value()));
        }
        assertThat(streamed).extracting(StreamedSample::getIndex).containsExactlyInAnyOrder(0L, 1L, 3L, 4L, 5L);
        for (StreamedSample sample : streamed) {
            int i = (int) sample.getIndex();
            GeneratedBatch batch = i < 3 ? first : second;
            int row = i < 3 ? i : i - 3;
            assertThat(sample.getMask()).isEqualTo(batch.getMasks(row));
            assertThat(sample.getClassNamesList()).containsExactly("background", "body", "wheel");
            assertThat(sample.getMetadata().getKey()).isEqualTo(String.format("%09d", i));
            assertThat(sample.getMetadata().getUncertainty()).isEqualTo(i / 100f);
            assertThat(sample.getMetadata().getLabeller().getName()).isEqualTo("toy-labeller");
        }
    }

    @Test
    void shouldReportTheWritersProgressAtMostOncePerIntervalAndAlwaysTheFinishWhenBatchesArriveFast() throws Exception {
        Path out = Files.createTempDirectory(Path.of("target"), "job-").toAbsolutePath();
        DatasetJob job =
                submitInto(out, GatewayGrpcServiceTest.job().setCount(40).setShardSize(100));
        var stream = datasets.watchJob(
                WatchJobRequest.newBuilder().setJobId(job.getJobId()).build());
        for (int i = 0; i < 40; i++) {
            deliver(generated(job, i, 1));
        }
        JobStatus last = lastStatus(stream);
        assertThat(last.getState()).isEqualTo(JobState.JOB_STATE_SUCCEEDED);
        List<JobProgress> reports = new ArrayList<>();
        for (var r : probe.collect("genaug.progress.v1", r -> r.key().equals(job.getJobId()), Duration.ofSeconds(3))) {
            JobProgress p = JobProgress.parseFrom(r.value());
            if (p.getStage().equals("writer")) {
                reports.add(p);
            }
        }
        // 40 batches in a burst: a report per batch would be 40; the 250 ms interval leaves a few.
        // Only the finishing report says 40 (a report racing it may land after it, with less).
        assertThat(reports).hasSizeBetween(1, 10);
        assertThat(reports).filteredOn(p -> p.getSamplesDone() == 40).isNotEmpty();
        assertThat(reports).allSatisfy(p -> assertThat(p.getSamplesDone()).isLessThanOrEqualTo(40));
    }

    @Test
    void shouldFailTheJobWhenABatchContradictsIt() {
        String id = submit(10);
        DatasetJob job = listedJob(id);
        deliver(generated(job, 8, 5)); // past the job's 10 samples
        var stream = datasets.watchJob(WatchJobRequest.newBuilder().setJobId(id).build());
        JobStatus last = lastStatus(stream);
        assertThat(last.getState()).isEqualTo(JobState.JOB_STATE_FAILED);
        assertThat(last.getMessage()).startsWith("writer: cannot write samples 8..12: range: [8, 13)");
    }

    @Test
    void shouldSayWhatWasWrittenWhenCancelled() {
        String id = submit(10);
        DatasetJob job = listedJob(id);
        deliver(generated(job, 0, 3));
        var stream = datasets.watchJob(WatchJobRequest.newBuilder().setJobId(id).build());
        while (stream.next().getSamplesDone() < 3) {
            // wait for the writer's report
        }
        JobStatus cancelled =
                datasets.cancelJob(CancelJobRequest.newBuilder().setJobId(id).build());
        assertThat(cancelled.getState()).isEqualTo(JobState.JOB_STATE_CANCELLED);
        assertThat(cancelled.getMessage())
                .isEqualTo("cancelled with 3 of 10 samples written (0 complete shards) in " + job.getOutput());
    }
}

package dev.genaug.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genaug.api.events.v1.JobState;
import dev.genaug.api.gateway.v1.DatasetServiceGrpc;
import dev.genaug.api.gateway.v1.JobStatus;
import dev.genaug.api.gateway.v1.ListJobsRequest;
import dev.genaug.api.gateway.v1.SubmitJobRequest;
import dev.genaug.api.gateway.v1.WatchJobRequest;
import dev.genaug.domain.dataset.DatasetWriter;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stage killed (SIGKILL) in the middle of a dataset job and started again: the sampler (the job
 * record is redelivered and its batches drawn again), then the gateway's writer (its unacknowledged
 * batches are redelivered to the new instance, which also learns the job and its progress from the
 * topics). The shards must still be byte-identical to those written without Kafka.
 */
class DatasetJobRestartIT {
    @TempDir
    Path tmp;

    @Test
    void shouldWriteTheSameShardsWhenTheSamplerOrTheWriterIsKilledMidJob() throws Exception {
        Path root = LocalStack.root();
        Path expected = tmp.resolve("reference");
        DatasetJobPipelineIT.reference(root, expected);
        LocalStack.Options options = new LocalStack.Options(
                null,
                null,
                tmp.resolve("logs"),
                0,
                0,
                LocalStack.Options.defaults().readyTimeout(),
                List.of(
                        // Groups notice a killed member after 6 s, not 45.
                        "-Dkafka.session.timeout.ms=6000",
                        "-Dkafka.heartbeat.interval.ms=1000",
                        // One batch in flight at a time: splitting takes long enough to be interrupted.
                        "-Dgenaug.sampler.send-window=1"));
        try (LocalStack stack =
                LocalStack.startKafka(root, options, new PrintStream(OutputStream.nullOutputStream()))) {
            stack.start(List.of(
                    DatasetJobPipelineIT.spec("sampler"),
                    DatasetJobPipelineIT.spec("generator"),
                    DatasetJobPipelineIT.spec("gateway")));

            // The sampler, killed once it has reported RUNNING.
            Path a = tmp.resolve("sampler-killed");
            ServiceProcess sampler = stack.instance("sampler");
            JobStatus doneA = watch(stack, a, status -> {
                if (status.getState() == JobState.JOB_STATE_RUNNING && sampler.alive()) {
                    sampler.kill();
                    stack.start(List.of(DatasetJobPipelineIT.spec("sampler")), List.of("sampler-2"));
                }
            });
            assertThat(sampler.alive()).isFalse();
            assertThat(Files.readString(sampler.log()))
                    .as("the killed sampler had not finished splitting the job")
                    .doesNotContain("job " + doneA.getJob().getJobId() + ": 900 samples sent");
            assertThat(doneA.getState()).as(doneA.getMessage()).isEqualTo(JobState.JOB_STATE_SUCCEEDED);
            assertThat(DatasetJobPipelineIT.shards(a)).containsExactlyElementsOf(DatasetJobPipelineIT.shards(expected));

            // The gateway (the writer), killed early in the job; the new one finishes the dataset
            // and, having read the jobs and progress topics, knows the job and its status.
            Path b = tmp.resolve("writer-killed");
            ServiceProcess gateway = stack.instance("gateway");
            ManagedChannel channel = channel(gateway);
            String id;
            try {
                var datasets = DatasetServiceGrpc.newBlockingStub(channel);
                id = datasets.submitJob(SubmitJobRequest.newBuilder()
                                .setJob(DatasetJobPipelineIT.job(b, 7))
                                .build())
                        .getJobId();
                Iterator<JobStatus> updates = datasets.watchJob(
                        WatchJobRequest.newBuilder().setJobId(id).build());
                while (updates.hasNext() && updates.next().getSamplesDone() < 60) {
                    // wait
                }
            } finally {
                channel.shutdownNow();
            }
            gateway.kill();
            assertThat(Files.readString(gateway.log()))
                    .as("the killed gateway had not finished the dataset")
                    .doesNotContain("job " + id + ": 900 samples written");
            ServiceProcess restarted = stack.start(List.of(DatasetJobPipelineIT.spec("gateway")), List.of("gateway-2"))
                    .getFirst();
            ManagedChannel again = channel(restarted);
            try {
                var datasets = DatasetServiceGrpc.newBlockingStub(again).withDeadlineAfter(3, TimeUnit.MINUTES);
                long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
                while (datasets.listJobs(ListJobsRequest.getDefaultInstance()).getJobsList().stream()
                                .noneMatch(j -> j.getJob().getJobId().equals(id))
                        && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                JobStatus last = null;
                Iterator<JobStatus> updates = datasets.watchJob(
                        WatchJobRequest.newBuilder().setJobId(id).build());
                while (updates.hasNext()) {
                    last = updates.next();
                }
                assertThat(last.getState()).as(last.getMessage()).isEqualTo(JobState.JOB_STATE_SUCCEEDED);
            } finally {
                again.shutdownNow();
            }
            assertThat(b.resolve(DatasetWriter.MANIFEST))
                    .as("the new writer finished the dataset")
                    .exists();
            assertThat(DatasetJobPipelineIT.shards(b)).containsExactlyElementsOf(DatasetJobPipelineIT.shards(expected));
        }
    }

    interface OnStatus {
        void accept(JobStatus status) throws Exception;
    }

    private static ManagedChannel channel(ServiceProcess gateway) {
        return ManagedChannelBuilder.forAddress("localhost", gateway.port())
                .usePlaintext()
                .build();
    }

    private static JobStatus watch(LocalStack stack, Path out, OnStatus onStatus) throws Exception {
        ManagedChannel channel = channel(stack.instance("gateway"));
        try {
            var datasets = DatasetServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.MINUTES);
            String id = datasets.submitJob(SubmitJobRequest.newBuilder()
                            .setJob(DatasetJobPipelineIT.job(out, 7))
                            .build())
                    .getJobId();
            JobStatus last = null;
            Iterator<JobStatus> updates =
                    datasets.watchJob(WatchJobRequest.newBuilder().setJobId(id).build());
            while (updates.hasNext()) {
                last = updates.next();
                onStatus.accept(last);
            }
            return last;
        } finally {
            channel.shutdownNow();
        }
    }
}

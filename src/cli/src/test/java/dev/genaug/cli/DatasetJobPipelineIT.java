package dev.genaug.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genaug.api.common.v1.ModelRef;
import dev.genaug.api.events.v1.DatasetJob;
import dev.genaug.api.events.v1.JobState;
import dev.genaug.api.events.v1.LatentBatch;
import dev.genaug.api.gateway.v1.DatasetServiceGrpc;
import dev.genaug.api.gateway.v1.JobStatus;
import dev.genaug.api.gateway.v1.SubmitJobRequest;
import dev.genaug.api.gateway.v1.WatchJobRequest;
import dev.genaug.domain.dataset.DatasetWriter;
import dev.genaug.domain.generation.Generation;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.sampling.Sampling;
import dev.genaug.inference.OnnxBackend;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dataset jobs through the real pipeline: an embedded broker whose topics have 3 partitions, a
 * sampler, two generator instances and a gateway, each its own JVM. The shards must be
 * byte-identical to those the same stages write in this JVM without Kafka, whatever the batch
 * size, and also when a generator instance is killed mid-job and replaced.
 */
class DatasetJobPipelineIT {
    private static final int COUNT = 900;
    private static final int SHARD = 300;

    @TempDir
    Path tmp;

    static DatasetJob.Builder job(Path out, int batchSize) {
        return DatasetJob.newBuilder()
                .setModel(ModelRef.newBuilder().setName("shapes-generator"))
                .setCount(COUNT)
                .setSeed(21)
                .setTruncationPsi(0.7f)
                .setBatchSize(batchSize)
                .setShardSize(SHARD)
                .setOutput(out.toString());
    }

    /** The same job through the stages' domain code in this JVM: no Kafka, one batch at a time. */
    static void reference(Path root, Path out) {
        ModelRepository repository = ModelRepository.open(root.resolve("deploy/model-repository"));
        DatasetJob job = job(out, 100).setJobId("reference").build();
        try (OnnxBackend onnx = new OnnxBackend(new OnnxBackend.Settings(1, false))) {
            Generation generation = new Generation(repository, onnx, 1024, 64);
            DatasetWriter writer = new DatasetWriter(out.getParent());
            writer.prepare(job);
            Iterator<LatentBatch> batches = new Sampling(repository, 1024, 64).plan(job);
            batches.forEachRemaining(b -> writer.write(generation.generate(b)));
        }
    }

    static List<byte[]> shards(Path out) throws Exception {
        List<byte[]> list = new ArrayList<>();
        for (int i = 0; i < COUNT / SHARD; i++) {
            list.add(Files.readAllBytes(out.resolve(DatasetWriter.shardName(i))));
        }
        return list;
    }

    @Test
    void shouldWriteTheSameShardsWithTwoGeneratorsOnThreePartitionsAndAGeneratorKilledMidJob() throws Exception {
        Path root = LocalStack.root();
        Path expected = tmp.resolve("reference");
        reference(root, expected);

        ByteArrayOutputStream stackLog = new ByteArrayOutputStream();
        LocalStack.Options options = new LocalStack.Options(
                null,
                null,
                tmp.resolve("logs"),
                0,
                3,
                LocalStack.Options.defaults().readyTimeout(),
                // A killed instance's partitions move to the other one after 6 s, not 45.
                List.of("-Dkafka.session.timeout.ms=6000", "-Dkafka.heartbeat.interval.ms=1000"));
        try (LocalStack stack = LocalStack.startKafka(root, options, new PrintStream(stackLog, true))) {
            ServiceSpec generator = spec("generator");
            stack.start(
                    List.of(spec("sampler"), generator, generator, spec("gateway")),
                    List.of("sampler", "generator-1", "generator-2", "gateway"));
            ManagedChannel channel = ManagedChannelBuilder.forAddress(
                            "localhost", stack.instance("gateway").port())
                    .usePlaintext()
                    .build();
            try {
                var datasets = DatasetServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.MINUTES);

                // Batches of 16 over both generators.
                Path a = tmp.resolve("a");
                JobStatus doneA = run(datasets, job(a, 16), null);
                assertThat(doneA.getState()).as(doneA.getMessage()).isEqualTo(JobState.JOB_STATE_SUCCEEDED);
                assertThat(shards(a)).as("batches of 16").containsExactlyElementsOf(shards(expected));

                // Batches of 7; one generator killed (SIGKILL) a third of the way, and replaced.
                Path b = tmp.resolve("b");
                List<ServiceProcess> generators = stack.running().stream()
                        .filter(p -> p.spec().name().equals("generator"))
                        .toList();
                JobStatus doneB = run(datasets, job(b, 7), status -> {
                    if (status.getSamplesDone() >= COUNT / 3
                            && generators.get(1).alive()) {
                        generators.get(1).kill();
                        stack.start(List.of(generator), List.of("generator-3"));
                    }
                });
                assertThat(generators.get(1).alive())
                        .as("the generator was killed")
                        .isFalse();
                assertThat(doneB.getState()).as(doneB.getMessage()).isEqualTo(JobState.JOB_STATE_SUCCEEDED);
                assertThat(shards(b))
                        .as("batches of 7, a generator killed")
                        .containsExactlyElementsOf(shards(expected));
                assertThat(Files.readAllBytes(b.resolve(DatasetWriter.PREVIEW)))
                        .isEqualTo(Files.readAllBytes(expected.resolve(DatasetWriter.PREVIEW)));
            } finally {
                channel.shutdownNow();
            }
        }
    }

    interface OnStatus {
        void accept(JobStatus status) throws Exception;
    }

    private static JobStatus run(
            DatasetServiceGrpc.DatasetServiceBlockingStub datasets, DatasetJob.Builder job, OnStatus onStatus)
            throws Exception {
        String id = datasets.submitJob(SubmitJobRequest.newBuilder().setJob(job).build())
                .getJobId();
        JobStatus last = null;
        Iterator<JobStatus> updates =
                datasets.watchJob(WatchJobRequest.newBuilder().setJobId(id).build());
        while (updates.hasNext()) {
            last = updates.next();
            if (onStatus != null) {
                onStatus.accept(last);
            }
        }
        return last;
    }

    static ServiceSpec spec(String name) {
        return ServiceSpec.ALL.stream()
                .filter(s -> s.name().equals(name))
                .findFirst()
                .orElseThrow();
    }
}

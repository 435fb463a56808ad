package dev.genaug.inference;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genaug.api.common.v1.ModelRef;
import dev.genaug.api.events.v1.DatasetJob;
import dev.genaug.api.events.v1.GeneratedBatch;
import dev.genaug.api.events.v1.LatentBatch;
import dev.genaug.domain.dataset.DatasetWriter;
import dev.genaug.domain.generation.Generation;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.sampling.Sampling;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stages of a dataset job (sampler, generator, writer) on the reference model with real ONNX
 * Runtime inference, without Kafka: what makes shards reproducible is here, the transport is
 * tested by the services' integration tests.
 */
class DatasetPipelineTest {
    private static ModelRepository repository;
    private static OnnxBackend backendA;
    private static OnnxBackend backendB;

    @TempDir
    Path tmp;

    @BeforeAll
    static void open() {
        Path root = Path.of(System.getProperty("genaug.root", "../.."));
        repository = ModelRepository.open(root.resolve("deploy/model-repository"));
        backendA = new OnnxBackend(new OnnxBackend.Settings(1, false));
        backendB = new OnnxBackend(new OnnxBackend.Settings(1, false));
    }

    @AfterAll
    static void close() {
        backendA.close();
        backendB.close();
    }

    private static DatasetJob job(Path out, int batchSize, long seed) {
        return DatasetJob.newBuilder()
                .setJobId("job-" + out.getFileName())
                .setModel(ModelRef.newBuilder().setName("shapes-generator"))
                .setCount(300)
                .setSeed(seed)
                .setTruncationPsi(0.8f)
                .setBatchSize(batchSize)
                .setShardSize(128)
                .setOutput(out.toString())
                .build();
    }

    private static List<LatentBatch> plan(DatasetJob job) {
        List<LatentBatch> batches = new ArrayList<>();
        new Sampling(repository, 1024, 64).plan(job).forEachRemaining(batches::add);
        return batches;
    }

    private static byte[] shard(Path out, int i) throws IOException {
        return Files.readAllBytes(out.resolve(DatasetWriter.shardName(i)));
    }

    @Test
    void shouldWriteByteIdenticalShardsWhateverTheBatchSizeInstancesOrderAndRestarts() throws IOException {
        // One generator, batches of 64, in order.
        Path a = tmp.resolve("a");
        DatasetJob jobA = job(a, 64, 11);
        DatasetWriter writer = new DatasetWriter(tmp);
        writer.prepare(jobA);
        Generation generation = new Generation(repository, backendA, 1024, 64);
        for (LatentBatch latents : plan(jobA)) {
            writer.write(generation.generate(latents));
        }

        // Batches of 7 shared by two generator instances, delivered out of order with repeats, and
        // written by a writer restarted half way.
        Path b = tmp.resolve("b");
        DatasetJob jobB = job(b, 7, 11);
        new DatasetWriter(tmp).prepare(jobB);
        Generation[] instances = {
            new Generation(repository, backendA, 1024, 64), new Generation(repository, backendB, 1024, 64)
        };
        List<GeneratedBatch> generated = new ArrayList<>();
        List<LatentBatch> plan = plan(jobB);
        for (int i = 0; i < plan.size(); i++) {
            generated.add(instances[i % 2].generate(plan.get(i)));
        }
        generated.add(generated.get(3));
        generated.add(generated.get(17));
        Collections.shuffle(generated, new Random(3));
        DatasetWriter.Written last = null;
        for (int i = 0; i < generated.size(); i++) {
            last = new DatasetWriter(tmp).write(generated.get(i));
        }

        assertThat(last.finished()).isTrue();
        for (int i = 0; i < 3; i++) {
            assertThat(shard(b, i)).as("shard " + i).isEqualTo(shard(a, i));
        }
        assertThat(Files.readAllBytes(b.resolve(DatasetWriter.PREVIEW)))
                .isEqualTo(Files.readAllBytes(a.resolve(DatasetWriter.PREVIEW)));
    }

    @Test
    void shouldWriteDifferentShardsForAnotherSeed() throws IOException {
        Path[] outs = {tmp.resolve("s1"), tmp.resolve("s2")};
        long[] seeds = {1, 2};
        Generation generation = new Generation(repository, backendA, 1024, 64);
        for (int k = 0; k < 2; k++) {
            DatasetJob job = job(outs[k], 64, seeds[k]).toBuilder().setCount(16).build();
            new DatasetWriter(tmp).prepare(job);
            for (LatentBatch latents : plan(job)) {
                new DatasetWriter(tmp).write(generation.generate(latents));
            }
        }
        assertThat(shard(outs[0], 0)).isNotEqualTo(shard(outs[1], 0));
    }
}

package dev.genaug.cli;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.genaug.api.common.v1.ModelRef;
import dev.genaug.api.events.v1.DatasetJob;
import dev.genaug.api.events.v1.JobState;
import dev.genaug.api.gateway.v1.DatasetServiceGrpc;
import dev.genaug.api.gateway.v1.JobStatus;
import dev.genaug.api.gateway.v1.SubmitJobRequest;
import dev.genaug.api.gateway.v1.WatchJobRequest;
import dev.genaug.domain.generation.GeneratedOutputs;
import dev.genaug.domain.inference.FloatTensor;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import dev.genaug.inference.OnnxBackend;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code genaug bench pipeline}: samples/s of a dataset job to disk through the embedded stack
 * (Kafka, sampler, generator, writer), against the ceiling measured in the same run: raw ONNX
 * Runtime generating the same images in this process.
 */
@Command(
        name = "pipeline",
        mixinStandardHelpOptions = true,
        description = "Samples/s of a dataset job through Kafka to disk, against raw ONNX Runtime in this process.")
final class PipelineBench implements Callable<Integer> {
    @Option(
            names = "--count",
            defaultValue = "20000",
            description = "Samples of the measured job (default ${DEFAULT-VALUE}).")
    long count;

    @Option(
            names = "--batch-size",
            defaultValue = "128",
            description = "Samples per Kafka batch, the sampler's default (default ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(
            names = "--threads",
            defaultValue = "2",
            description = "ONNX Runtime threads in all (default ${DEFAULT-VALUE}).")
    int threads;

    @Option(
            names = "--instances",
            defaultValue = "2",
            description = "Concurrent runs of the model in the generator, each on threads/instances threads"
                    + " (default ${DEFAULT-VALUE}).")
    int instances;

    @Option(
            names = "--seconds",
            defaultValue = "5",
            description = "Measuring time of the ceiling (default ${DEFAULT-VALUE}).")
    double seconds;

    @Option(
            names = "--model",
            defaultValue = "shapes-generator",
            description = "Generator model (default ${DEFAULT-VALUE}).")
    String modelName;

    @Option(
            names = "--rounds",
            defaultValue = "3",
            description = "Rounds of (ceiling, measured job); the median ratio is reported (default ${DEFAULT-VALUE}).")
    int rounds;

    @Option(
            names = "--service-option",
            description = "An extra JVM option for every service, such as -Dsome.config=value (repeatable).")
    List<String> serviceOptions = new ArrayList<>();

    @Option(names = "--json", description = "Also write the figures to this file.")
    Path json;

    @Override
    public Integer call() throws Exception {
        Path root = LocalStack.root();
        ResolvedModel model =
                ModelRepository.open(root.resolve("deploy/model-repository")).resolve(modelName, "", "model");
        int d = model.manifest().getLatent().getDimension();
        String z = model.manifest().getTensorsOrDefault("latent", "z");
        String image = model.manifest().getTensorsOrDefault("image", "image");

        // What the generator adds per sample: PNG encoding, on one thread.
        BenchCommand.Stats png;
        try (OnnxBackend onnx = new OnnxBackend(new OnnxBackend.Settings(threads, false))) {
            OrtSession session = onnx.session(model);
            try (OnnxTensor input = BenchCommand.input(BenchCommand.priorLatents(d, batchSize), batchSize, d)) {
                var spec = model.manifest().getImage();
                FloatTensor images = new FloatTensor(
                        new long[] {batchSize, spec.getChannels(), spec.getHeight(), spec.getWidth()},
                        BenchCommand.rawRun(session, z, image, input));
                png = BenchCommand.measure(
                        batchSize,
                        seconds,
                        () -> GeneratedOutputs.pngs(images, model.manifest().getImage()));
            }
        }

        Path work = Files.createDirectories(root.resolve(".genaug/bench"));
        Map<String, Object> result = new LinkedHashMap<>();
        LocalStack.Options options = new LocalStack.Options(
                null,
                null,
                work.resolve("logs"),
                0,
                0,
                LocalStack.Options.defaults().readyTimeout(),
                Stream.concat(
                                Stream.of(
                                        "-Dgenaug.generator.onnx-threads=" + Math.max(1, threads / instances),
                                        "-Dgenaug.generator.batcher-instances=" + instances,
                                        "-Dgenaug.generator.onnx-cuda=false"),
                                serviceOptions.stream())
                        .toList());
        double single;
        double concurrent;
        long startStack = System.nanoTime();
        try (LocalStack stack =
                LocalStack.startKafka(root, options, new PrintStream(OutputStream.nullOutputStream()))) {
            stack.start(ServiceSpec.ALL.stream()
                    .filter(s -> List.of("sampler", "generator", "gateway").contains(s.name()))
                    .toList());
            double stackSeconds = LocalStack.seconds(startStack);
            ManagedChannel channel = ManagedChannelBuilder.forAddress(
                            "localhost", stack.instance("gateway").port())
                    .usePlaintext()
                    .build();
            try {
                var datasets = DatasetServiceGrpc.newBlockingStub(channel);
                // A warm-up job (JIT, sessions, consumer groups), then rounds of: the ceiling, then
                // the measured job, so that each ratio compares figures of the same minute.
                runJob(datasets, work, Math.min(count, 5000));
                List<Ceiling> ceilings = new ArrayList<>();
                List<JobRun> runs = new ArrayList<>();
                Map<String, Double> cpuPerSample = new LinkedHashMap<>();
                for (int r = 0; r < rounds; r++) {
                    ceilings.add(ceiling(model, d, z, image));
                    Map<String, Double> cpuBefore = cpuSeconds(stack);
                    runs.add(runJob(datasets, work, count));
                    Map<String, Double> cpuAfter = cpuSeconds(stack);
                    // Where the cores went: CPU milliseconds per sample of each process during the jobs.
                    cpuBefore.forEach((name, before) -> cpuPerSample.merge(
                            name, (cpuAfter.get(name) - before) * 1e3 / ((double) count * rounds), Double::sum));
                }
                double[] ratios = new double[rounds];
                for (int r = 0; r < rounds; r++) {
                    ratios[r] = runs.get(r).samplesPerSecond() / ceilings.get(r).best();
                }
                double ceiling = BenchCommand.medianOf(ceilings, Ceiling::best);
                single = BenchCommand.medianOf(ceilings, Ceiling::oneRun);
                concurrent = BenchCommand.medianOf(ceilings, Ceiling::concurrentRuns);
                double samplesPerSecond = BenchCommand.medianOf(runs, JobRun::samplesPerSecond);
                result.put("model", modelName);
                result.put("count", count);
                result.put("batch_size", batchSize);
                result.put("threads", threads);
                result.put("instances", instances);
                result.put("service_options", serviceOptions);
                result.put("rounds", rounds);
                result.put("raw_ort_img_s", ceiling);
                result.put("raw_ort_one_run_img_s", single);
                result.put("raw_ort_concurrent_runs_img_s", concurrent);
                result.put("png_encode_img_s", png.imgPerSecond());
                result.put("pipeline_samples_s", samplesPerSecond);
                result.put(
                        "pipeline_seconds_rounds",
                        runs.stream().mapToDouble(JobRun::seconds).toArray());
                result.put(
                        "pipeline_samples_s_rounds",
                        runs.stream().mapToDouble(JobRun::samplesPerSecond).toArray());
                result.put(
                        "raw_ort_img_s_rounds",
                        ceilings.stream().mapToDouble(Ceiling::best).toArray());
                result.put("ratio_to_raw_ort_rounds", ratios);
                result.put("ratio_to_raw_ort", BenchCommand.medianOf(ratios));
                result.put("stack_start_s", stackSeconds);
                Map<String, Long> rss = new LinkedHashMap<>();
                for (ServiceProcess p : stack.running()) {
                    rss.put(p.spec().name(), LocalProcesses.memoryMiB(p.pid(), "VmHWM"));
                }
                rss.put(
                        "benchmark_jvm_with_broker",
                        LocalProcesses.memoryMiB(ProcessHandle.current().pid(), "VmHWM"));
                result.put("peak_rss_mb", rss);
                result.put("dataset_bytes", runs.get(0).bytes());
                result.put("cpu_ms_per_sample", cpuPerSample);
                // The model's own share: what the ceiling costs per image on the same cores.
                result.put("raw_ort_cpu_ms_per_sample", threads * 1e3 / ceiling);
            } finally {
                channel.shutdownNow();
            }
        }
        System.out.printf(
                "%nraw ONNX Runtime, one run of %d threads    %8.0f img/s  (batch %d)%n", threads, single, batchSize);
        System.out.printf(
                "raw ONNX Runtime, %d runs of %d thread(s)   %8.0f img/s%n",
                instances, Math.max(1, threads / instances), concurrent);
        System.out.printf("PNG encoding, one thread                %8.0f img/s%n", png.imgPerSecond());
        System.out.printf(
                "dataset job to disk                     %8.0f samples/s  (median of %d jobs of %d samples)%n",
                (double) result.get("pipeline_samples_s"), rounds, count);
        System.out.printf(
                "ratio to the better raw figure          %8.2f  (median; per round %s)%n",
                (double) result.get("ratio_to_raw_ort"),
                Arrays.toString((double[]) result.get("ratio_to_raw_ort_rounds")));
        System.out.println("peak RSS (MiB): " + result.get("peak_rss_mb"));
        System.out.printf(
                "CPU ms per sample during the job: %s (the raw model alone: %.3f)%n",
                result.get("cpu_ms_per_sample"), (double) result.get("raw_ort_cpu_ms_per_sample"));
        if (json != null) {
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), result);
            System.out.println("figures written to " + json);
        }
        return 0;
    }

    /** Raw ONNX Runtime at the job's batch size: one run of all threads, and `instances` concurrent runs. */
    record Ceiling(double oneRun, double concurrentRuns) {
        double best() {
            return Math.max(oneRun, concurrentRuns);
        }
    }

    /** The ceiling now: OrtSession.run at the job's batch size, in this process, output copied out. */
    private Ceiling ceiling(ResolvedModel model, int d, String z, String image) throws Exception {
        double one;
        try (OnnxBackend onnx = new OnnxBackend(new OnnxBackend.Settings(threads, false))) {
            OrtSession session = onnx.session(model);
            try (OnnxTensor input = BenchCommand.input(BenchCommand.priorLatents(d, batchSize), batchSize, d)) {
                one = BenchCommand.measure(batchSize, seconds, () -> BenchCommand.rawRun(session, z, image, input))
                        .imgPerSecond();
            }
        }
        return new Ceiling(one, instances > 1 ? concurrentRuns(model, d, z, image) : one);
    }

    /** Images/s of `instances` threads running the model back to back on one session. */
    private double concurrentRuns(ResolvedModel model, int d, String z, String image) throws Exception {
        try (OnnxBackend onnx = new OnnxBackend(new OnnxBackend.Settings(Math.max(1, threads / instances), false))) {
            OrtSession session = onnx.session(model);
            float[] latents = BenchCommand.priorLatents(d, batchSize);
            AtomicLong images = new AtomicLong();
            long warmEnd = System.nanoTime() + 1_000_000_000L;
            long end = warmEnd + (long) (seconds * 1e9);
            List<Thread> runners = new ArrayList<>();
            for (int i = 0; i < instances; i++) {
                runners.add(Thread.ofPlatform().start(() -> {
                    try (OnnxTensor input = BenchCommand.input(latents, batchSize, d)) {
                        while (System.nanoTime() < end) {
                            BenchCommand.rawRun(session, z, image, input);
                            if (System.nanoTime() > warmEnd) {
                                images.addAndGet(batchSize);
                            }
                        }
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }));
            }
            for (Thread t : runners) {
                t.join();
            }
            return images.get() / seconds;
        }
    }

    /** CPU seconds used so far by each service process and by this JVM (which runs the broker). */
    private static Map<String, Double> cpuSeconds(LocalStack stack) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (ServiceProcess p : stack.running()) {
            out.put(p.spec().name(), LocalProcesses.cpuSeconds(p.pid()));
        }
        out.put(
                "benchmark_jvm_with_broker",
                LocalProcesses.cpuSeconds(ProcessHandle.current().pid()));
        return out;
    }

    record JobRun(double seconds, double samplesPerSecond, long bytes) {}

    private JobRun runJob(DatasetServiceGrpc.DatasetServiceBlockingStub datasets, Path work, long n) throws Exception {
        Path out = work.resolve("pipeline-" + System.nanoTime());
        long start = System.nanoTime();
        String id = datasets.submitJob(SubmitJobRequest.newBuilder()
                        .setJob(DatasetJob.newBuilder()
                                .setModel(ModelRef.newBuilder().setName(modelName))
                                .setCount(n)
                                .setSeed(1)
                                .setBatchSize(batchSize)
                                .setOutput(out.toString()))
                        .build())
                .getJobId();
        JobStatus last = null;
        Iterator<JobStatus> updates =
                datasets.watchJob(WatchJobRequest.newBuilder().setJobId(id).build());
        while (updates.hasNext()) {
            last = updates.next();
        }
        double seconds = LocalStack.seconds(start);
        if (last == null || last.getState() != JobState.JOB_STATE_SUCCEEDED) {
            throw new IllegalStateException("the benchmark job did not succeed: " + last);
        }
        long bytes;
        try (var files = Files.list(out)) {
            bytes = files.mapToLong(p -> p.toFile().length()).sum();
        }
        // Only the figures stay; the dataset is removed.
        try (var files = Files.list(out)) {
            for (Path p : files.toList()) {
                Files.delete(p);
            }
        }
        Files.delete(out);
        return new JobRun(seconds, n / seconds, bytes);
    }
}

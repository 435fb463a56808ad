package dev.genaug.cli;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.genaug.api.common.v1.ModelRef;
import dev.genaug.api.generator.v1.GenerateRequest;
import dev.genaug.api.generator.v1.GeneratorServiceGrpc;
import dev.genaug.api.generator.v1.ImageEncoding;
import dev.genaug.domain.inference.AlignedRuns;
import dev.genaug.domain.inference.DynamicBatcher;
import dev.genaug.domain.inference.FloatTensor;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import dev.genaug.domain.sampling.PriorSampler;
import dev.genaug.domain.tensor.ChwImage;
import dev.genaug.domain.tensor.ImageCodec;
import dev.genaug.domain.tensor.Tensors;
import dev.genaug.inference.OnnxBackend;
import dev.genaug.inference.TritonBackend;
import dev.genaug.kafka.EmbeddedKafkaBroker;
import dev.genaug.kafka.ProjectFiles;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.net.http.HttpClient;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.ToDoubleFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code genaug bench}: benchmarks that print figures, with ratios against a baseline of the same run. */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description = "Benchmarks.",
        subcommands = {BenchCommand.Generate.class, PipelineBench.class, LabellerBench.class})
final class BenchCommand {

    /** Latency and throughput of one way of generating. */
    record Stats(double imgPerSecond, double p50Ms, double p99Ms, int calls) {}

    interface Call {
        void run() throws Exception;
    }

    /** One raw OrtSession.run of a generator, its image output copied out as any caller must. */
    static float[] rawRun(OrtSession session, String z, String image, OnnxTensor input) throws OrtException {
        try (OrtSession.Result r = session.run(Map.of(z, input), Set.of(image))) {
            return OnnxBackend.floats((OnnxTensor) r.get(image).orElseThrow());
        }
    }

    /**
     * One batch as single-threaded runs of its parts at once (the first on this thread), the images
     * gathered into one array as the service gathers them.
     */
    static float[] rawParts(OrtSession session, String z, String image, List<OnnxTensor> parts, ExecutorService helpers)
            throws Exception {
        List<Future<float[]>> others = new ArrayList<>();
        for (OnnxTensor part : parts.subList(1, parts.size())) {
            others.add(helpers.submit(() -> rawRun(session, z, image, part)));
        }
        List<float[]> images = new ArrayList<>();
        images.add(rawRun(session, z, image, parts.getFirst()));
        for (Future<float[]> f : others) {
            images.add(f.get());
        }
        float[] all = new float[images.stream().mapToInt(i -> i.length).sum()];
        int at = 0;
        for (float[] i : images) {
            System.arraycopy(i, 0, all, at, i.length);
            at += i.length;
        }
        return all;
    }

    /** Each statistic the median of the rounds' (images/s, p50 and p99 separately). */
    static Stats median(List<Stats> all) {
        return new Stats(
                medianOf(all, Stats::imgPerSecond),
                medianOf(all, Stats::p50Ms),
                medianOf(all, Stats::p99Ms),
                all.stream().mapToInt(Stats::calls).sum());
    }

    /** The median of one figure over rounds. */
    static <T> double medianOf(List<T> rounds, ToDoubleFunction<T> figure) {
        return medianOf(rounds.stream().mapToDouble(figure).toArray());
    }

    static double medianOf(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    /** One batch of prior latents (seed 1): the input of every generation figure. */
    static float[] priorLatents(int d, int batch) {
        return PriorSampler.create(d, 1f, 0f, "").sample(1, 0, batch);
    }

    /** Latents [batch, d] as an ONNX Runtime input; the caller closes it. */
    static OnnxTensor input(float[] latents, int batch, int d) throws OrtException {
        return OnnxTensor.createTensor(
                OrtEnvironment.getEnvironment(), FloatBuffer.wrap(latents), new long[] {batch, d});
    }

    /** Warm-up of each figure, at most its measuring time. */
    static final double WARM_UP_SECONDS = 2.0;

    static Stats measure(int batch, double seconds, Call call) throws Exception {
        // Warm-up by time as well as by count: a JVM on the other end of a socket compiles its
        // call path after thousands of calls, not twenty, and a cold path is not what a
        // long-running client sees.
        long warm = System.nanoTime() + (long) (Math.min(seconds, WARM_UP_SECONDS) * 1e9);
        for (int i = 0; i < 20 || System.nanoTime() < warm; i++) {
            call.run();
        }
        List<Long> nanos = new ArrayList<>();
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        while (System.nanoTime() < end) {
            long t = System.nanoTime();
            call.run();
            nanos.add(System.nanoTime() - t);
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        long[] sorted = nanos.stream().mapToLong(Long::longValue).sorted().toArray();
        return new Stats(
                batch * sorted.length / elapsed,
                sorted[sorted.length / 2] / 1e6,
                sorted[Math.min(sorted.length - 1, (int) (sorted.length * 0.99))] / 1e6,
                sorted.length);
    }

    @Command(
            name = "generate",
            mixinStandardHelpOptions = true,
            description = "Images/s and latency of the reference generator (raw FP32 images): (a) raw ONNX Runtime in "
                    + "this process, the ceiling (the better of one run on every thread and a batch split into "
                    + "single-threaded runs at once); (b) GeneratorService over gRPC on loopback; (c) the KServe v2 endpoint "
                    + "through genaug's Triton client; (d) the same decoder in PyTorch eager.")
    static final class Generate implements Callable<Integer> {
        @Option(
                names = "--batches",
                split = ",",
                defaultValue = "1,16,64",
                description = "Batch sizes (default ${DEFAULT-VALUE}).")
        List<Integer> batches;

        @Option(
                names = "--seconds",
                defaultValue = "3",
                description = "Measuring time per figure and round (default ${DEFAULT-VALUE}).")
        double seconds;

        @Option(
                names = "--threads",
                defaultValue = "2",
                description = "Threads of every runtime (default ${DEFAULT-VALUE}).")
        int threads;

        @Option(
                names = "--model",
                defaultValue = "shapes-generator",
                description = "Generator model (default ${DEFAULT-VALUE}).")
        String modelName;

        @Option(
                names = "--service-warm-up",
                defaultValue = "40",
                description = "Seconds of calls of every kind and batch to the fresh service before any figure"
                        + " (default ${DEFAULT-VALUE}).")
        double serviceWarmUp;

        @Option(names = "--json", description = "Also write the figures to this file.")
        Path json;

        @Option(
                names = "--rounds",
                defaultValue = "5",
                description = "Rounds of every figure, interleaved; the median is reported (default ${DEFAULT-VALUE}).")
        int rounds;

        @Option(
                names = "--raw-spinning",
                defaultValue = "true",
                arity = "1",
                description = "Let (a)'s idle ONNX Runtime threads busy-wait between runs, as a hand-written loop's"
                        + " would; false: they sleep, as the service's do by default (default ${DEFAULT-VALUE}).")
        boolean rawSpinning;

        @Option(
                names = "--service-spinning",
                defaultValue = "false",
                arity = "1",
                description = "The service's genaug.generator.onnx-spinning (default ${DEFAULT-VALUE}, the service's"
                        + " own default).")
        boolean serviceSpinning;

        @Option(
                names = "--service-split",
                defaultValue = "true",
                arity = "1",
                description =
                        "The service runs `threads` single-threaded instances and splits a batch across the"
                                + " idle ones, as by default; false: one instance on `threads` threads (default ${DEFAULT-VALUE}).")
        boolean serviceSplit;

        /**
         * A fresh service JVM compiles its gRPC, protobuf and batcher paths only after thousands of
         * calls; without this, the first figures measure the JIT rather than the service.
         */
        private static void warmUp(Map<String, Map<Integer, Call>> calls, double seconds) throws Exception {
            long end = System.nanoTime() + (long) (seconds * 1e9);
            do {
                for (var kind : calls.values()) {
                    for (Call call : kind.values()) {
                        long slice = System.nanoTime() + 250_000_000L;
                        while (System.nanoTime() < slice) {
                            call.run();
                        }
                    }
                }
            } while (System.nanoTime() < end);
        }

        @Override
        public Integer call() throws Exception {
            Path root = ProjectFiles.root().orElseThrow();
            Path repoDir = root.resolve("deploy/model-repository");
            ResolvedModel model = ModelRepository.open(repoDir).resolve(modelName, "", "model");
            int d = model.manifest().getLatent().getDimension();
            String z = model.manifest().getTensorsOrDefault("latent", "z");
            String image = model.manifest().getTensorsOrDefault("image", "image");
            Map<String, Map<String, Object>> byBatch = new LinkedHashMap<>();
            for (int b : batches) {
                byBatch.put(Integer.toString(b), new LinkedHashMap<>());
            }

            // PNG encoding on its own (what PNG responses add per image).
            float[] one = new float[3 * 64 * 64];
            Arrays.fill(one, 0.25f);
            ChwImage img = new ChwImage(3, 64, 64, one);
            Stats png = measure(1, Math.min(seconds, 3), () -> ImageCodec.encodePng(img, -1f, 1f));

            // (b) and (c) call a generator service in its own JVM over loopback.
            Path logs = Files.createDirectories(root.resolve(".genaug/bench"));
            EmbeddedKafkaBroker broker =
                    LocalProcesses.quietly(() -> EmbeddedKafkaBroker.start(Files.createTempDirectory(logs, "kafka-")));
            broker.createTopics(ProjectFiles.topics());
            int port = LocalProcesses.freePort();
            ServiceSpec spec = ServiceSpec.ALL.stream()
                    .filter(s -> s.name().equals("generator"))
                    .findFirst()
                    .orElseThrow();
            ServiceProcess service = ServiceProcess.start(
                    spec,
                    root,
                    port,
                    broker.bootstrapServers(),
                    repoDir,
                    logs,
                    List.of(
                            "-XX:+UseSerialGC",
                            "-Dgenaug.generator.batcher-instances=" + (serviceSplit ? threads : 1),
                            "-Dgenaug.generator.batcher-split=" + serviceSplit,
                            "-Dgenaug.generator.onnx-threads=" + (serviceSplit ? 1 : threads),
                            "-Dgenaug.generator.onnx-spinning=" + serviceSpinning,
                            "-Dgenaug.generator.onnx-cuda=false"),
                    "generator");
            long serviceRss;
            double floorP50;
            double[] floorP50Rounds;
            ManagedChannel channel = ManagedChannelBuilder.forAddress("localhost", port)
                    .usePlaintext()
                    .maxInboundMessageSize(256 * 1024 * 1024)
                    .build();
            List<OnnxTensor> rawInputs = new ArrayList<>();
            try (HttpClient http = HttpClient.newHttpClient();
                    OnnxBackend onnx = new OnnxBackend(new OnnxBackend.Settings(threads, false, rawSpinning));
                    OnnxBackend single = new OnnxBackend(new OnnxBackend.Settings(1, false, false));
                    ExecutorService helpers = Executors.newFixedThreadPool(Math.max(1, threads - 1))) {
                if (!service.awaitReady(http, Duration.ofMinutes(2))) {
                    System.err.println("generator did not start:\n" + service.logTail(30));
                    return 1;
                }
                // (a) The ceiling: OrtSession.run in this process, output copied out as any caller must,
                // the better of one run on every thread and a run split into single-threaded parts
                // at once (what the service does by default).
                OrtSession session = onnx.session(model);
                OrtSession singleSession = single.session(model);
                var stub = GeneratorServiceGrpc.newBlockingStub(channel);
                TritonBackend kserve = new TritonBackend(
                        channel,
                        new TritonBackend.Settings(
                                "localhost:" + port, Duration.ofSeconds(60), 1, Duration.ofMillis(10), false));
                Map<String, Map<Integer, Call>> calls = new LinkedHashMap<>();
                calls.put("raw_ort_one_run", new LinkedHashMap<>());
                calls.put("raw_ort_parts", new LinkedHashMap<>());
                calls.put("grpc", new LinkedHashMap<>());
                calls.put("kserve", new LinkedHashMap<>());
                for (int b : batches) {
                    float[] latents = priorLatents(d, b);
                    OnnxTensor input = input(latents, b, d);
                    rawInputs.add(input);
                    calls.get("raw_ort_one_run").put(b, () -> BenchCommand.rawRun(session, z, image, input));
                    List<OnnxTensor> parts = new ArrayList<>();
                    int from = 0;
                    // As the service splits it: whole groups of rows per part.
                    int split = Math.max(1, Math.min(threads, b / AlignedRuns.ROWS));
                    for (int rows : DynamicBatcher.partSizes(b, split)) {
                        parts.add(input(Arrays.copyOfRange(latents, from * d, (from + rows) * d), rows, d));
                        from += rows;
                    }
                    rawInputs.addAll(parts);
                    calls.get("raw_ort_parts").put(b, () -> rawParts(singleSession, z, image, parts, helpers));
                    GenerateRequest request = GenerateRequest.newBuilder()
                            .setModel(ModelRef.newBuilder().setName(modelName))
                            .setLatents(Tensors.fp32(latents, b, d))
                            .setImageEncoding(ImageEncoding.IMAGE_ENCODING_RAW_FP32)
                            .build();
                    calls.get("grpc")
                            .put(
                                    b,
                                    () -> stub.generate(request)
                                            .getImageTensor()
                                            .getData()
                                            .size());
                    Map<String, FloatTensor> in = Map.of(z, new FloatTensor(new long[] {b, d}, latents));
                    calls.get("kserve").put(b, () -> kserve.infer(model, in, List.of(image)));
                }
                // The floor of any Generate call: one the service refuses before any work (an empty
                // batch, INVALID_ARGUMENT), through the same sockets, threads and dispatch.
                GenerateRequest refused = GenerateRequest.newBuilder()
                        .setModel(ModelRef.newBuilder().setName(modelName))
                        .setLatents(Tensors.fp32(new float[0], 0, d))
                        .build();
                Call floor = () -> {
                    try {
                        stub.generate(refused);
                        throw new IllegalStateException("the service accepted an empty batch");
                    } catch (StatusRuntimeException e) {
                        if (e.getStatus().getCode() != Status.Code.INVALID_ARGUMENT) {
                            throw e;
                        }
                    }
                };
                warmUp(calls, serviceWarmUp);
                List<Stats> floorRounds = new ArrayList<>();
                // Rounds interleave (a), (b) and (c), so that a slow spell of the machine (another
                // tenant, the service's JIT) weighs on all three; each figure is the median of its rounds.
                Map<String, List<Stats>> perRound = new LinkedHashMap<>();
                for (int r = 0; r < rounds; r++) {
                    floorRounds.add(measure(1, seconds, floor));
                    for (int b : batches) {
                        for (var kind : calls.entrySet()) {
                            Stats s = measure(b, seconds, kind.getValue().get(b));
                            perRound.computeIfAbsent(b + "/" + kind.getKey(), k -> new ArrayList<>())
                                    .add(s);
                        }
                    }
                }
                for (int b : batches) {
                    Stats oneRun = median(perRound.get(b + "/raw_ort_one_run"));
                    Stats split = median(perRound.get(b + "/raw_ort_parts"));
                    boolean splitWins = split.imgPerSecond() > oneRun.imgPerSecond();
                    put(byBatch, b, "raw_ort", splitWins ? split : oneRun);
                    byBatch.get(Integer.toString(b)).put("raw_ort_best_of", splitWins ? "parts" : "one_run");
                    for (String kind : calls.keySet()) {
                        List<Stats> all = perRound.get(b + "/" + kind);
                        put(byBatch, b, kind, median(all));
                        Map<String, Object> row = byBatch.get(Integer.toString(b));
                        row.put(
                                kind + "_img_s_rounds",
                                all.stream().mapToDouble(Stats::imgPerSecond).toArray());
                        row.put(
                                kind + "_p50_ms_rounds",
                                all.stream().mapToDouble(Stats::p50Ms).toArray());
                    }
                }
                floorP50 = median(floorRounds).p50Ms();
                floorP50Rounds = floorRounds.stream().mapToDouble(Stats::p50Ms).toArray();
                serviceRss = LocalProcesses.memoryMiB(service.pid(), "VmHWM");
            } finally {
                rawInputs.forEach(OnnxTensor::close);
                channel.shutdownNow();
                service.stop(Duration.ofSeconds(20));
                broker.close();
            }

            // (d) PyTorch eager, Debian's interpreter, same thread count.
            Map<String, Map<String, Double>> torch =
                    torch(root, model.versionDirectory().resolve("model.onnx"));
            for (int b : batches) {
                Map<String, Double> t = torch == null ? null : torch.get(Integer.toString(b));
                byBatch.get(Integer.toString(b)).put("torch_img_s", t == null ? null : t.get("img_s"));
                byBatch.get(Integer.toString(b)).put("torch_p50_ms", t == null ? null : t.get("p50_ms"));
            }

            Map<String, Object> result = new LinkedHashMap<>();
            result.put("model", modelName);
            result.put("threads", threads);
            result.put("raw_spinning", rawSpinning);
            result.put("service_spinning", serviceSpinning);
            result.put("service_split", serviceSplit);
            result.put("seconds_per_figure", seconds);
            result.put("rounds", rounds);
            result.put("service_warm_up_seconds", serviceWarmUp);
            result.put("batch", byBatch);
            result.put("grpc_refused_call_p50_ms", floorP50);
            result.put("grpc_refused_call_p50_ms_rounds", floorP50Rounds);
            result.put("png_encode_img_s", png.imgPerSecond());
            // The service's peak is the figure a deployment sizes for; this JVM also holds the broker.
            result.put("peak_rss_mb", serviceRss);
            result.put(
                    "peak_rss_mb_by_process",
                    Map.of(
                            "benchmark_jvm_with_broker",
                            LocalProcesses.memoryMiB(ProcessHandle.current().pid(), "VmHWM"),
                            "generator_service",
                            serviceRss));
            print(byBatch, png);
            System.out.printf(
                    "a Generate call the service refuses at once (empty batch): %.3f ms p50, the floor of any call%n",
                    floorP50);
            if (json != null) {
                new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), result);
                System.out.println("figures written to " + json);
            }
            return 0;
        }

        private static void put(Map<String, Map<String, Object>> byBatch, int b, String what, Stats s) {
            Map<String, Object> m = byBatch.get(Integer.toString(b));
            m.put(what + "_img_s", s.imgPerSecond());
            m.put(what + "_p50_ms", s.p50Ms());
            m.put(what + "_p99_ms", s.p99Ms());
        }

        @SuppressWarnings("unchecked")
        private Map<String, Map<String, Double>> torch(Path root, Path onnxFile) {
            try {
                Process p = new ProcessBuilder(
                                "/usr/bin/python3",
                                root.resolve("src/models/shapes/bench_torch.py").toString(),
                                "--model",
                                onnxFile.toString(),
                                "--seconds",
                                Double.toString(seconds),
                                "--threads",
                                Integer.toString(threads),
                                "--batches",
                                String.join(
                                        ",",
                                        batches.stream().map(String::valueOf).toList()))
                        .redirectError(ProcessBuilder.Redirect.DISCARD)
                        .start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                if (p.waitFor() != 0 || out.isEmpty()) {
                    System.err.println("PyTorch baseline skipped: Debian's python3-torch and python3-onnx are needed");
                    return null;
                }
                return new ObjectMapper()
                        .readValue(out.lines().reduce((a, b2) -> b2).orElseThrow(), Map.class);
            } catch (Exception e) {
                System.err.println("PyTorch baseline skipped: " + e.getMessage());
                return null;
            }
        }

        private static void print(Map<String, Map<String, Object>> byBatch, Stats png) {
            System.out.printf(
                    "%-6s %12s %12s %12s %12s | %10s %10s %10s | %8s %10s%n",
                    "batch",
                    "raw ORT",
                    "gRPC",
                    "KServe",
                    "PyTorch",
                    "ORT p50",
                    "gRPC p50",
                    "+ms p50",
                    "gRPC/ORT",
                    "gRPC/torch");
            for (var e : byBatch.entrySet()) {
                Map<String, Object> m = e.getValue();
                double raw = (double) m.get("raw_ort_img_s");
                double grpc = (double) m.get("grpc_img_s");
                Double torch = (Double) m.get("torch_img_s");
                System.out.printf(
                        "%-6s %12.1f %12.1f %12.1f %12s | %10.3f %10.3f %10.3f | %8.2f %10s%n",
                        e.getKey(),
                        raw,
                        grpc,
                        (double) m.get("kserve_img_s"),
                        torch == null ? "-" : String.format("%.1f", torch),
                        (double) m.get("raw_ort_p50_ms"),
                        (double) m.get("grpc_p50_ms"),
                        (double) m.get("grpc_p50_ms") - (double) m.get("raw_ort_p50_ms"),
                        grpc / raw,
                        torch == null ? "-" : String.format("%.2f", grpc / torch));
            }
            System.out.printf(
                    "images/s, raw FP32 outputs; PNG encoding alone: %.0f images/s (64x64 RGB)%n", png.imgPerSecond());
        }
    }
}

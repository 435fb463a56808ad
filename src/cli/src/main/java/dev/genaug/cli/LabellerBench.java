package dev.genaug.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.google.protobuf.ByteString;
import dev.genaug.api.common.v1.Image;
import dev.genaug.api.common.v1.ModelRef;
import dev.genaug.api.events.v1.DatasetJob;
import dev.genaug.api.events.v1.LatentBatch;
import dev.genaug.api.labeller.v1.Annotation;
import dev.genaug.api.labeller.v1.LabellerArithmetic;
import dev.genaug.api.labeller.v1.TrainRequest;
import dev.genaug.domain.dataset.ShapesParts;
import dev.genaug.domain.files.Trees;
import dev.genaug.domain.generation.Generation;
import dev.genaug.domain.inference.FloatTensor;
import dev.genaug.domain.labelling.FeatureMaps;
import dev.genaug.domain.labelling.FeatureSource;
import dev.genaug.domain.labelling.LabellerOnnx;
import dev.genaug.domain.labelling.Labelling;
import dev.genaug.domain.labelling.ScratchLabeller;
import dev.genaug.domain.random.RandomStream;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import dev.genaug.domain.tensor.ImageCodec;
import dev.genaug.domain.tensor.Tensors;
import dev.genaug.inference.FusedLabellerBackend;
import dev.genaug.inference.OnnxBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code genaug bench labeller}: the labeller's costs on this machine. Training time and peak RSS
 * (16 annotations, ensemble of 10, in a scratch copy of the repository); the labeller's GFLOP/s
 * against an ONNX Runtime GEMM probe measured in the same run (for the fused kernel, measured last,
 * the mean of three probes around its two timings, as the VM's speed drifts within minutes); and
 * samples/s of the labelled job stage (generate + label + PNGs) against the unlabelled one
 * (generate + PNGs), same batches.
 */
@Command(
        name = "labeller",
        mixinStandardHelpOptions = true,
        description =
                "Labeller training time and memory, labelling GFLOP/s vs a GEMM probe, labelled vs unlabelled samples/s.")
final class LabellerBench implements Callable<Integer> {
    @Option(names = "--annotations", defaultValue = "16", description = "Annotations (default ${DEFAULT-VALUE}).")
    int annotations;

    @Option(names = "--ensemble", defaultValue = "10", description = "Members (default ${DEFAULT-VALUE}).")
    int ensemble;

    @Option(
            names = "--hidden",
            split = ",",
            description = "Hidden layer widths of each member (default: the training default).")
    List<Integer> hidden = List.of();

    @Option(
            names = "--images",
            defaultValue = "64",
            description = "Pictures labelled per measurement (default ${DEFAULT-VALUE}).")
    int images;

    @Option(
            names = "--seconds",
            defaultValue = "5",
            description = "Seconds per measurement (default ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--json", description = "Write the figures to this file.")
    Path json;

    private static float[] prior(int rows, int d, long seed) {
        float[] z = new float[rows * d];
        for (int i = 0; i < rows; i++) {
            RandomStream r = RandomStream.of(seed, i);
            for (int k = 0; k < d; k++) {
                z[i * d + k] = (float) r.nextGaussian();
            }
        }
        return z;
    }

    /** Runs of a one-input probe model per second. */
    private double probe(OnnxBackend onnx, Path scratch, byte[] model, FloatTensor x) throws Exception {
        try (ScratchLabeller probe = ScratchLabeller.stage(scratch, model)) {
            double perSecond = BenchCommand.measure(
                            1, seconds, () -> onnx.infer(probe.model(), Map.of("x", x), List.of("y")))
                    .imgPerSecond();
            onnx.release(probe.model());
            return perSecond;
        }
    }

    @Override
    public Integer call() throws Exception {
        int cores = Runtime.getRuntime().availableProcessors();
        Path scratch = Files.createTempDirectory("genaug-bench-labeller");
        Path source = LocalStack.models(null);
        for (String m : List.of("shapes-generator", "shapes-encoder")) {
            Trees.copy(source.resolve(m), scratch.resolve(m));
        }
        ModelRepository repository = ModelRepository.open(scratch);
        Map<String, Object> out = new LinkedHashMap<>();
        try (OnnxBackend onnx = new OnnxBackend(new OnnxBackend.Settings(cores, false, false))) {
            // 1. Training, the first thing this process does, so its peak RSS is the training's.
            TrainRequest.Builder request = TrainRequest.newBuilder()
                    .setGenerator(ModelRef.newBuilder().setName("shapes-generator"))
                    .setLabellerName("bench-labeller")
                    .addAllClassNames(ShapesParts.CLASSES)
                    .setEnsembleSize(ensemble)
                    .addAllHiddenSizes(hidden);
            for (long index : ShapesParts.balancedIndices(1, annotations)) {
                ShapesParts.Sample s = ShapesParts.render(1, index);
                request.addAnnotations(Annotation.newBuilder()
                        .setImage(Image.newBuilder()
                                .setPng(ByteString.copyFrom(ImageCodec.encodePng(s.rgb(), 3, 64, 64))))
                        .setLabelPng(ByteString.copyFrom(ImageCodec.encodePng(s.mask(), 1, 64, 64))));
            }
            Labelling labelling = new Labelling(repository, onnx, new Labelling.Settings(256, cores));
            long t0 = System.nanoTime();
            ResolvedModel labeller = labelling.train(request.build(), (m, e, l) -> {}, () -> false);
            double trainSeconds = LocalStack.seconds(t0);
            out.put("train_s", trainSeconds);
            out.put(
                    "train_peak_rss_mb",
                    LocalProcesses.memoryMiB(ProcessHandle.current().pid(), "VmHWM"));
            out.put("annotations", annotations);
            out.put("ensemble", ensemble);
            out.put("hidden", hidden);
            System.out.printf(
                    "training: %d annotations, ensemble %d: %.1f s, peak RSS %d MiB%n",
                    annotations, ensemble, trainSeconds, out.get("train_peak_rss_mb"));
            // The same training with 8-bit integer arithmetic (same seed: the same ensemble).
            t0 = System.nanoTime();
            ResolvedModel int8Labeller = labelling.train(
                    request.setLabellerName("bench-labeller-int8")
                            .setArithmetic(LabellerArithmetic.LABELLER_ARITHMETIC_INT8)
                            .build(),
                    (m, e, l) -> {},
                    () -> false);
            out.put("int8_train_s", LocalStack.seconds(t0));
            // A high-water mark: the larger of the two trainings (the int8 one adds its calibration).
            out.put(
                    "int8_train_peak_rss_mb",
                    LocalProcesses.memoryMiB(ProcessHandle.current().pid(), "VmHWM"));
            System.out.printf(
                    "training with int8 arithmetic: %.1f s, peak RSS %d MiB%n",
                    out.get("int8_train_s"), out.get("int8_train_peak_rss_mb"));

            // 2. GEMM probes vs the labellers, all through ONNX Runtime on all cores.
            ResolvedModel generator = repository.resolve("shapes-generator", "", "generator");
            int d = generator.manifest().getLatent().getDimension();
            float[] z = prior(images, d, 5);
            List<LabellerOnnx.Input> inputs = FeatureSource.inputs(generator.manifest());
            FeatureMaps maps = FeatureSource.generate(onnx, generator, inputs, z, images);
            // Pictures per run as a labelled job labels them.
            int chunk = Labelling.LABEL_CHUNK;
            Map<String, FloatTensor> feeds = new LinkedHashMap<>();
            maps.tensors().forEach((name, t) -> feeds.put(name, t.slice(0, chunk)));
            double flops = labeller.manifest().getMetricsOrThrow("flops_per_image");
            BenchCommand.Stats label = BenchCommand.measure(
                    chunk, seconds, () -> onnx.infer(labeller, feeds, List.of(LabellerOnnx.UNCERTAINTY)));
            BenchCommand.Stats int8Label = BenchCommand.measure(
                    chunk, seconds, () -> onnx.infer(int8Labeller, feeds, List.of(LabellerOnnx.UNCERTAINTY)));
            double labelGflops = label.imgPerSecond() * flops / 1e9;
            int m = 16384;
            int k = 512;
            int chain = 8;
            FloatTensor x = new FloatTensor(new long[] {m, k}, prior(m, k, 9));
            byte[] probeModel = LabellerOnnx.gemmProbe(k, chain); // also timed around the fused kernel
            double probeGflop = 2.0 * m * k * k * chain / 1e9; // (or GOP) per run of either probe
            double gemmGflops = probe(onnx, scratch, probeModel, x) * probeGflop;
            double int8GemmGops = probe(onnx, scratch, LabellerOnnx.gemmProbeInt8(k, chain), x) * probeGflop;
            out.put("gemm_probe", Map.of("m", m, "k", k, "n", k, "chain", chain, "gflops", gemmGflops));
            out.put("label_gflops", labelGflops);
            out.put("label_images_s", label.imgPerSecond());
            out.put("label_flops_per_image", flops);
            double graphFlops = labeller.manifest().getMetricsOrThrow("graph_flops_per_image");
            out.put("label_graph_flops_per_image", graphFlops);
            out.put("label_vs_gemm", labelGflops / gemmGflops);
            System.out.printf(
                    "GEMM probe %d x [%d x %d] x [%d x %d]: %.1f GFLOP/s; labeller: %.1f GFLOP/s (%.0f pictures/s, %.2f GFLOP each"
                            + " with the shortcut on every level, %.2f as its graph runs them) = %.2f of the probe%n",
                    chain,
                    m,
                    k,
                    k,
                    k,
                    gemmGflops,
                    labelGflops,
                    label.imgPerSecond(),
                    flops / 1e9,
                    graphFlops / 1e9,
                    labelGflops / gemmGflops);
            double int8Ops = int8Labeller.manifest().getMetricsOrThrow("int8_ops_per_image");
            double int8Gops = int8Label.imgPerSecond() * int8Ops / 1e9;
            Map<String, Object> int8 = new LinkedHashMap<>();
            int8.put("gemm_probe_gops", int8GemmGops);
            int8.put("label_images_s", int8Label.imgPerSecond());
            int8.put("label_ops_per_image", int8Ops);
            int8.put("label_gops", int8Gops);
            int8.put("label_vs_int8_gemm", int8Gops / int8GemmGops);
            int8.put("label_float_equivalent_gflops", int8Label.imgPerSecond() * flops / 1e9);
            int8.put("label_float_equivalent_vs_gemm", int8Label.imgPerSecond() * flops / 1e9 / gemmGflops);
            int8.put("speed_up", int8Label.imgPerSecond() / label.imgPerSecond());
            out.put("int8", int8);
            System.out.printf(
                    "int8: GEMM probe %.1f GOP/s; labeller %.0f pictures/s (%.2fx float), %.1f GOP/s (%.2f GOP each) ="
                            + " %.2f of the int8 probe; %.1f float-equivalent GFLOP/s = %.2f of the float probe%n",
                    int8GemmGops,
                    int8Label.imgPerSecond(),
                    int8Label.imgPerSecond() / label.imgPerSecond(),
                    int8Gops,
                    int8Ops / 1e9,
                    int8Gops / int8GemmGops,
                    int8Label.imgPerSecond() * flops / 1e9,
                    int8Label.imgPerSecond() * flops / 1e9 / gemmGflops);

            // 3. The job stages: generate + PNG vs generate + label + PNGs, batches of 64.
            Generation generation = new Generation(repository, onnx, 256, 64);
            DatasetJob job = DatasetJob.newBuilder()
                    .setJobId("bench")
                    .setModel(ModelRef.newBuilder().setName("shapes-generator"))
                    .setCount(images)
                    .setLabeller(labeller.ref())
                    .build();
            LatentBatch.Builder batch = LatentBatch.newBuilder()
                    .setJobId("bench")
                    .setRange(dev.genaug.api.common.v1.SampleRange.newBuilder()
                            .setStart(0)
                            .setCount(images))
                    .setModel(generator.ref())
                    .setLabeller(labeller.ref())
                    .setJob(job)
                    .setLatents(Tensors.fp32(z, images, d));
            for (int i = 0; i < images; i++) {
                batch.addProvenance(dev.genaug.api.common.v1.Provenance.getDefaultInstance());
            }
            LatentBatch fixed = batch.build();
            BenchCommand.Stats plain = BenchCommand.measure(images, seconds, () -> generation.generate(fixed));
            BenchCommand.Stats labelled = BenchCommand.measure(images, seconds, () -> labelling.label(fixed));
            LatentBatch fixedInt8 = fixed.toBuilder()
                    .setLabeller(int8Labeller.ref())
                    .setJob(job.toBuilder().setLabeller(int8Labeller.ref()))
                    .build();
            BenchCommand.Stats labelledInt8 = BenchCommand.measure(images, seconds, () -> labelling.label(fixedInt8));
            out.put("unlabelled_stage_samples_s", plain.imgPerSecond());
            out.put("labelled_stage_samples_s", labelled.imgPerSecond());
            out.put("labelled_vs_unlabelled", labelled.imgPerSecond() / plain.imgPerSecond());
            int8.put("labelled_stage_samples_s", labelledInt8.imgPerSecond());
            int8.put("labelled_vs_unlabelled", labelledInt8.imgPerSecond() / plain.imgPerSecond());
            System.out.printf(
                    "job stage, batches of %d: unlabelled %.0f samples/s, labelled %.1f samples/s = %.3f%n",
                    images,
                    plain.imgPerSecond(),
                    labelled.imgPerSecond(),
                    labelled.imgPerSecond() / plain.imgPerSecond());
            System.out.printf(
                    "job stage, int8 labeller: %.1f samples/s = %.3f%n",
                    labelledInt8.imgPerSecond(), labelledInt8.imgPerSecond() / plain.imgPerSecond());

            // 4. The float labeller on the fused kernel (FusedLabellerBackend), as the labeller
            // service runs it on CPUs: the same labeller, runs and stage as above.
            if (FusedLabellerBackend.available()) {
                try (FusedLabellerBackend fused = new FusedLabellerBackend(onnx, cores)) {
                    // The VM's speed drifts over the minutes since the first probe, so the kernel is
                    // timed twice between three probes and compared with their mean.
                    List<Double> around = new ArrayList<>();
                    List<Double> fusedRates = new ArrayList<>();
                    around.add(probe(onnx, scratch, probeModel, x) * probeGflop);
                    for (int round = 0; round < 2; round++) {
                        fusedRates.add(BenchCommand.measure(
                                        chunk,
                                        seconds,
                                        () -> fused.infer(labeller, feeds, List.of(LabellerOnnx.UNCERTAINTY)))
                                .imgPerSecond());
                        around.add(probe(onnx, scratch, probeModel, x) * probeGflop);
                    }
                    double adjacentGflops = around.stream()
                            .mapToDouble(Double::doubleValue)
                            .average()
                            .orElseThrow();
                    double fusedRate = fusedRates.stream()
                            .mapToDouble(Double::doubleValue)
                            .average()
                            .orElseThrow();
                    Labelling fusedLabelling = new Labelling(repository, fused, new Labelling.Settings(256, cores));
                    BenchCommand.Stats fusedStage =
                            BenchCommand.measure(images, seconds, () -> fusedLabelling.label(fixed));
                    double fusedGflops = fusedRate * flops / 1e9;
                    Map<String, Object> f = new LinkedHashMap<>();
                    f.put("label_images_s", fusedRate);
                    f.put("label_images_s_per_round", fusedRates);
                    f.put("gemm_probes_around_gflops", around);
                    f.put("label_gflops", fusedGflops);
                    f.put("gemm_probe_adjacent_gflops", adjacentGflops);
                    f.put("label_vs_gemm", fusedGflops / adjacentGflops);
                    f.put("label_vs_first_gemm", fusedGflops / gemmGflops);
                    f.put("speed_up", fusedRate / label.imgPerSecond());
                    f.put("labelled_stage_samples_s", fusedStage.imgPerSecond());
                    f.put("labelled_vs_unlabelled", fusedStage.imgPerSecond() / plain.imgPerSecond());
                    out.put("fused", f);
                    System.out.printf(
                            "fused kernel: labeller %.0f pictures/s (%.2fx ONNX Runtime), %.1f GFLOP/s = %.2f of the"
                                    + " probes around it (%.1f GFLOP/s; %.2f of the first); job stage %.1f samples/s"
                                    + " = %.3f%n",
                            fusedRate,
                            fusedRate / label.imgPerSecond(),
                            fusedGflops,
                            fusedGflops / adjacentGflops,
                            adjacentGflops,
                            fusedGflops / gemmGflops,
                            fusedStage.imgPerSecond(),
                            fusedStage.imgPerSecond() / plain.imgPerSecond());
                }
            } else {
                System.out.println(
                        "fused kernel: not measured (start the JVM with --add-modules jdk.incubator.vector)");
            }
        } finally {
            Trees.delete(scratch);
        }
        out.put("cores", cores);
        if (json != null) {
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), out);
        }
        return 0;
    }
}

package dev.genaug.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.genaug.api.onnx.ModelProto;
import dev.genaug.domain.dataset.ShapesParts;
import dev.genaug.domain.inference.FloatTensor;
import dev.genaug.domain.labelling.Ensemble;
import dev.genaug.domain.labelling.FeatureSource;
import dev.genaug.domain.labelling.LabellerOnnx;
import dev.genaug.domain.labelling.LabellerTrainer;
import dev.genaug.domain.labelling.ScratchLabeller;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fused labeller against ONNX Runtime on the shipped labeller and the generator's own features. */
class FusedLabellerTest {
    private static final int PICTURES = 6;

    private static ModelRepository repository;
    private static OnnxBackend onnx;
    private static FusedLabellerBackend fused;
    private static ResolvedModel labeller;
    private static Map<String, FloatTensor> features;

    @BeforeAll
    static void open() {
        repository = ModelRepository.open(root().resolve("deploy/model-repository"));
        onnx = new OnnxBackend(new OnnxBackend.Settings(2, false, false));
        fused = new FusedLabellerBackend(onnx, 2);
        labeller = repository.resolve("shapes-labeller", "", "labeller");
        ResolvedModel generator = repository.resolve("shapes-generator", "", "generator");
        int d = generator.manifest().getLatent().getDimension();
        float[] z = new float[PICTURES * d];
        Random random = new Random(5);
        for (int i = 0; i < z.length; i++) {
            z[i] = (float) random.nextGaussian();
        }
        features = onnx.infer(
                generator,
                Map.of(generator.config().getInput(0).getName(), new FloatTensor(new long[] {PICTURES, d}, z)),
                labeller.manifest().getFeaturesList().stream()
                        .map(f -> f.getName())
                        .toList());
    }

    /** The kernel takes vectors of 256 bits or more (FusedLabeller.of); elsewhere labellers stay on ONNX Runtime. */
    private static void assumeKernelVectors() {
        org.junit.jupiter.api.Assumptions.assumeTrue(
                jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length() >= 8,
                "the kernel takes vectors of 256 bits or more; this CPU has "
                        + jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize());
    }

    @AfterAll
    static void close() {
        fused.close();
    }

    @Test
    void shouldLabelAsOnnxRuntimeDoesWhenTheLabellerIsFused() {
        assertThat(FusedLabellerBackend.available()).isTrue(); // the build's test JVMs add the module
        assumeKernelVectors();
        assertThat(fused.fuses(labeller)).isTrue();
        List<String> outputs = List.of(LabellerOnnx.LABELS, LabellerOnnx.CONFIDENCE, LabellerOnnx.UNCERTAINTY);
        Map<String, FloatTensor> expected = onnx.infer(labeller, features, outputs);
        Map<String, FloatTensor> actual = fused.infer(labeller, features, outputs);

        for (String name : outputs) {
            assertThat(actual.get(name).shape())
                    .as(name)
                    .containsExactly(expected.get(name).shape());
        }
        float[] el = expected.get(LabellerOnnx.LABELS).data();
        float[] al = actual.get(LabellerOnnx.LABELS).data();
        int differ = 0;
        for (int i = 0; i < el.length; i++) {
            differ += el[i] != al[i] ? 1 : 0;
        }
        assertThat(differ).as("pixels labelled otherwise of %d", el.length).isLessThanOrEqualTo(el.length / 2000);
        float[] ec = expected.get(LabellerOnnx.CONFIDENCE).data();
        float[] ac = actual.get(LabellerOnnx.CONFIDENCE).data();
        double worst = 0;
        for (int i = 0; i < ec.length; i++) {
            worst = Math.max(worst, Math.abs(ec[i] - ac[i]));
        }
        assertThat(worst).as("largest confidence difference").isLessThan(1e-4);
        float[] eu = expected.get(LabellerOnnx.UNCERTAINTY).data();
        float[] au = actual.get(LabellerOnnx.UNCERTAINTY).data();
        for (int i = 0; i < eu.length; i++) {
            assertThat((double) au[i])
                    .as("uncertainty %d", i)
                    .isCloseTo(eu[i], org.assertj.core.api.Assertions.within(1e-5));
        }
        System.out.printf(
                "fused vs ONNX Runtime: %d of %d labels differ, confidence within %.2e%n", differ, el.length, worst);
    }

    @Test
    void shouldLeaveOtherModelsToTheWrappedBackendWhenTheyAreNotFloatLabellers() {
        ResolvedModel generator = repository.resolve("shapes-generator", "", "generator");
        assertThat(fused.fuses(generator)).isFalse();
        int d = generator.manifest().getLatent().getDimension();
        Map<String, FloatTensor> z =
                Map.of(generator.config().getInput(0).getName(), new FloatTensor(new long[] {1, d}, new float[d]));
        assertThat(fused.infer(generator, z, List.of()).keySet())
                .containsExactlyElementsOf(onnx.infer(generator, z, List.of()).keySet());
    }

    @Test
    void shouldReportWhatOnnxRuntimeReportsWhenAnInputIsMissing() {
        Map<String, FloatTensor> partial = new HashMap<>(features);
        partial.remove("feat_8");
        List<String> outputs = List.of(LabellerOnnx.UNCERTAINTY);
        Throwable direct = org.assertj.core.api.Assertions.catchThrowable(() -> onnx.infer(labeller, partial, outputs));
        Throwable wrapped =
                org.assertj.core.api.Assertions.catchThrowable(() -> fused.infer(labeller, partial, outputs));
        assertThat(direct).isNotNull();
        assertThat(wrapped).hasSameClassAs(direct).hasMessage(direct.getMessage());
    }

    @Test
    void shouldMatchOnnxRuntimeWhenTheMembersHaveOtherWidthsInSeveralGroups(@TempDir Path dir) throws Exception {
        assumeKernelVectors();
        ResolvedModel generator = repository.resolve("shapes-generator", "", "generator");
        List<LabellerOnnx.Input> inputs = FeatureSource.inputs(generator.manifest());
        int d = generator.manifest().getLatent().getDimension();
        float[] z = new float[2 * d];
        Random random = new Random(9);
        for (int i = 0; i < z.length; i++) {
            z[i] = (float) random.nextGaussian();
        }
        byte[] masks = new byte[2 * 4096];
        for (int i = 0; i < 2; i++) {
            System.arraycopy(ShapesParts.render(1, i).mask(), 0, masks, i * 4096, 4096);
        }
        // Seven members: the export builds them in two groups (five and two); DatasetGAN's [128, 32]
        // units, which `labeller train --hidden 128,32` registers (the shipped labeller has the
        // default [32, 16]).
        Ensemble ensemble = LabellerTrainer.train(
                FeatureSource.generate(onnx, generator, inputs, z, 2),
                masks,
                ShapesParts.CLASSES.size(),
                new LabellerTrainer.Settings(7, new int[] {128, 32}, 1, 5, 3, 64, 1e-3f, 2),
                (m, e, l) -> {},
                () -> false);
        byte[] model = LabellerOnnx.export(ensemble, inputs, 64, 64, "test");
        FusedLabeller kernel = FusedLabeller.of(
                ModelProto.parseFrom(model),
                inputs.stream()
                        .map(in -> new FusedLabeller.Feature(in.name(), in.channels(), in.stride()))
                        .toList(),
                64,
                64,
                Ensemble.topCount(4096));
        assertThat(kernel).isNotNull();
        Map<String, float[]> data = new HashMap<>();
        features.forEach((name, t) -> data.put(name, t.data()));
        FusedLabeller.Outputs actual;
        try (ForkJoinPool pool = new ForkJoinPool(2)) {
            actual = kernel.label(data, PICTURES, pool);
        }
        try (ScratchLabeller staged = ScratchLabeller.stage(dir, model)) {
            Map<String, FloatTensor> expected = onnx.infer(
                    staged.model(),
                    features,
                    List.of(LabellerOnnx.LABELS, LabellerOnnx.CONFIDENCE, LabellerOnnx.UNCERTAINTY));
            float[] el = expected.get(LabellerOnnx.LABELS).data();
            int differ = 0;
            for (int i = 0; i < el.length; i++) {
                differ += el[i] != actual.labels()[i] ? 1 : 0;
            }
            assertThat(differ).as("pixels labelled otherwise of %d", el.length).isLessThanOrEqualTo(el.length / 2000);
            float[] ec = expected.get(LabellerOnnx.CONFIDENCE).data();
            for (int i = 0; i < ec.length; i++) {
                assertThat(actual.confidence()[i]).as("confidence %d", i).isCloseTo(ec[i], within(1e-4f));
            }
            float[] eu = expected.get(LabellerOnnx.UNCERTAINTY).data();
            for (int i = 0; i < eu.length; i++) {
                assertThat(actual.uncertainty()[i]).as("uncertainty %d", i).isCloseTo(eu[i], within(1e-5f));
            }
            onnx.release(staged.model());
        }
    }

    @Test
    void shouldComputeExponentialsWithinTwoUlpsWhenTheArgumentIsInRange() {
        assumeKernelVectors();
        int n = 16 * 30;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = Math.min(88f, -87f + 0.37f * i);
        }
        x[n - 1] = Float.NEGATIVE_INFINITY;
        float[] e = x.clone();
        FusedLabeller.exp(e, n);
        for (int i = 0; i < n - 1; i++) {
            float expected = (float) Math.exp(x[i]);
            assertThat(e[i]).as("e^%s", x[i]).isCloseTo(expected, within(2 * Math.ulp(expected)));
        }
        assertThat(e[n - 1]).isBetween(0f, 2e-38f);
    }

    @Test
    void shouldComputeLogarithmsWithinTwoUlpsWhenTheArgumentIsPositiveAndNormal() {
        assumeKernelVectors();
        int n = 16 * 200;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) { // from 1e-12 (the smallest mean probability the kernel takes) to 1e12
            x[i] = (float) Math.pow(10, -12 + 24.0 * i / (n - 1));
        }
        x[1] = 1f;
        x[2] = Math.nextUp(1f);
        x[3] = Math.nextDown(1f);
        x[4] = Float.MIN_NORMAL;
        x[5] = Float.MAX_VALUE;
        float[] logs = x.clone();
        FusedLabeller.log(logs, n);
        for (int i = 0; i < n; i++) {
            float expected = (float) Math.log(x[i]);
            assertThat(logs[i]).as("ln %s", x[i]).isCloseTo(expected, within(2 * Math.ulp(expected)));
        }
    }

    @Test
    void shouldLabelBitForBitAlikeWhenTheKernelRunsWithoutTheJitCompiler(@TempDir Path dir) throws Exception {
        assumeKernelVectors();
        // Here, after enough runs for the JIT to compile the kernel (vector intrinsics); in a child
        // JVM, never compiled past C1 (the vector API's plain Java code). A job's shards must not
        // depend on when in the process's life a sample was labelled.
        assertThat(childOutputs(dir, "-XX:TieredStopAtLevel=1", 0)).isEqualTo(compiledOutputs());
    }

    @Test
    void shouldLabelBitForBitAlikeWhenTheVectorsHoldEightFloats(@TempDir Path dir) throws Exception {
        assumeKernelVectors();
        // A child JVM held to AVX2 (256-bit vectors, 8 floats): every sum runs in the same order
        // per pixel whatever the vectors' width, so the outputs are those of this JVM's vectors.
        assertThat(childOutputs(dir, "-XX:UseAVX=2", 200)).isEqualTo(compiledOutputs());
    }

    private static byte[] compiled;

    /** The dump's outputs in this JVM after 200 runs (the JIT has compiled the kernel), made once. */
    private static synchronized byte[] compiledOutputs() throws java.io.IOException {
        if (compiled == null) {
            compiled = FusedLabellerDump.outputs(root(), 200);
        }
        return compiled;
    }

    private static Path root() {
        return Path.of(System.getProperty("genaug.root", "../..")).toAbsolutePath();
    }

    /** The dump's outputs from a child JVM started with {@code flag}, after {@code warmUp} runs. */
    private static byte[] childOutputs(Path dir, String flag, int warmUp) throws Exception {
        Path root = root();
        Path file = dir.resolve("child.bin");
        String launcher =
                Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(
                        launcher,
                        flag,
                        "--add-modules=jdk.incubator.vector",
                        "--enable-native-access=ALL-UNNAMED",
                        "-cp",
                        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                        FusedLabellerDump.class.getName(),
                        root.toString(),
                        file.toString(),
                        Integer.toString(warmUp))
                .redirectErrorStream(true)
                .start();
        String log = new String(child.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(child.waitFor()).as(log).isZero();
        return java.nio.file.Files.readAllBytes(file);
    }

    @Test
    void shouldLabelAlikeWhenCallsRunAtOnce() throws Exception {
        assumeKernelVectors();
        List<String> outputs = List.of(LabellerOnnx.UNCERTAINTY, LabellerOnnx.CONFIDENCE);
        Map<String, FloatTensor> alone = fused.infer(labeller, features, outputs);
        var executor = java.util.concurrent.Executors.newFixedThreadPool(3);
        try {
            List<java.util.concurrent.Future<Map<String, FloatTensor>>> calls = new java.util.ArrayList<>();
            for (int i = 0; i < 9; i++) {
                calls.add(executor.submit(() -> fused.infer(labeller, features, outputs)));
            }
            for (var call : calls) {
                Map<String, FloatTensor> together = call.get();
                for (String name : outputs) {
                    assertThat(together.get(name).data())
                            .as(name)
                            .containsExactly(alone.get(name).data());
                }
            }
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void shouldLabelBitForBitAlikeWhenTheThreadCountDiffers() {
        assumeKernelVectors();
        // Each thread takes a band of rows: one band, two, and three of unequal sizes.
        List<String> outputs = List.of(LabellerOnnx.LABELS, LabellerOnnx.CONFIDENCE, LabellerOnnx.UNCERTAINTY);
        Map<String, FloatTensor> two = fused.infer(labeller, features, outputs);
        for (int threads : new int[] {1, 3}) {
            // Its own ONNX Runtime backend: closing the fused one closes the one it wraps.
            try (FusedLabellerBackend other = new FusedLabellerBackend(
                    new OnnxBackend(new OnnxBackend.Settings(threads, false, false)), threads)) {
                assertThat(other.fuses(labeller)).isTrue();
                Map<String, FloatTensor> result = other.infer(labeller, features, outputs);
                for (String name : outputs) {
                    assertThat(result.get(name).data())
                            .as("%s with %d threads", name, threads)
                            .containsExactly(two.get(name).data());
                }
            }
        }
    }
}

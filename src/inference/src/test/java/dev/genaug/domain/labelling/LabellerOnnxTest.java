package dev.genaug.domain.labelling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.genaug.domain.dataset.ShapesParts;
import dev.genaug.domain.inference.FloatTensor;
import dev.genaug.domain.random.RandomStream;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import dev.genaug.inference.OnnxBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The exported labeller (first layer at native resolution, scaling and BatchNorm folded, all in
 * one ONNX graph run by ONNX Runtime) against the plain per-pixel reference of {@link Ensemble}.
 */
class LabellerOnnxTest {
    private static OnnxBackend onnx;
    private static ResolvedModel generator;
    private static FeatureMaps maps;
    private static Ensemble ensemble;

    @BeforeAll
    static void train() {
        Path root = Path.of("").toAbsolutePath();
        while (!Files.isDirectory(root.resolve("deploy/model-repository"))) {
            root = root.getParent();
        }
        ModelRepository repository = ModelRepository.open(root.resolve("deploy/model-repository"));
        generator = repository.resolve("shapes-generator", "", "generator");
        onnx = new OnnxBackend(new OnnxBackend.Settings(2, false, false));
        int d = generator.manifest().getLatent().getDimension();
        float[] z = new float[6 * d];
        for (int i = 0; i < 6; i++) {
            RandomStream r = RandomStream.of(11, i);
            for (int k = 0; k < d; k++) {
                z[i * d + k] = (float) r.nextGaussian();
            }
        }
        maps = FeatureSource.generate(onnx, generator, FeatureSource.inputs(generator.manifest()), z, 6);
        // Masks of renders stand in for annotations: the test is about arithmetic, not accuracy.
        byte[] masks = new byte[4 * 4096];
        for (int i = 0; i < 4; i++) {
            System.arraycopy(ShapesParts.render(1, i).mask(), 0, masks, i * 4096, 4096);
        }
        FeatureMaps train = firstImages(maps, 4);
        ensemble = LabellerTrainer.train(
                train,
                masks,
                ShapesParts.CLASSES.size(),
                new LabellerTrainer.Settings(3, new int[] {16, 8}, 1, 10, 5, 64, 1e-3f, 2),
                (m, e, l) -> {},
                () -> false);
    }

    @AfterAll
    static void close() {
        onnx.close();
    }

    static FeatureMaps firstImages(FeatureMaps all, int n) {
        List<FeatureMaps.Level> levels = all.levels().stream()
                .map(l -> new FeatureMaps.Level(
                        l.name(),
                        l.channels(),
                        l.stride(),
                        java.util.Arrays.copyOf(l.data(), l.data().length / all.images() * n)))
                .toList();
        return new FeatureMaps(n, all.height(), all.width(), levels);
    }

    /** Three members in groups of one, two (two and one) and three: every way the graph splits them. */
    @ParameterizedTest(name = "members per group {0}")
    @ValueSource(ints = {1, 2, 3})
    void shouldMatchThePerPixelReferenceWhenRunByOnnxRuntime(int membersPerGroup, @TempDir Path dir) throws Exception {
        List<LabellerOnnx.Input> inputs = FeatureSource.inputs(generator.manifest());
        ResolvedModel labeller = stage(dir, LabellerOnnx.export(ensemble, inputs, 64, 64, "test", membersPerGroup));

        Map<String, FloatTensor> out = labelAll(labeller);
        Ensemble.Labels expected = ensemble.label(maps);

        assertThat(out.get(LabellerOnnx.LABELS).shape()).containsExactly(6, 64, 64);
        assertThat(out.get(LabellerOnnx.UNCERTAINTY).shape()).containsExactly(6);
        float[] confidence = out.get(LabellerOnnx.CONFIDENCE).data();
        float[] labels = out.get(LabellerOnnx.LABELS).data();
        int disagreements = 0;
        for (int p = 0; p < labels.length; p++) {
            assertThat(confidence[p])
                    .as("confidence of pixel %d", p)
                    .isCloseTo(expected.confidence()[p], within(1e-4f));
            if (labels[p] != expected.labels()[p]) {
                // Only a near tie between two classes may flip the argmax.
                disagreements++;
                assertThat(confidence[p]).isLessThan(0.51f);
            }
        }
        assertThat(disagreements).isLessThan(labels.length / 1000);
        float[] u = out.get(LabellerOnnx.UNCERTAINTY).data();
        for (int i = 0; i < 6; i++) {
            assertThat(u[i]).as("uncertainty of image %d", i).isCloseTo(expected.uncertainty()[i], within(1e-4f));
        }
        double most = 0;
        for (float v : u) {
            most = Math.max(most, v);
        }
        assertThat(most).as("an ensemble of three disagrees somewhere").isGreaterThan(0);
    }

    @Test
    void shouldUpsampleBeforeTheFirstLayerOnlyTheLevelsWithFewChannels() {
        // feat_32: 25 channels in the shipped model (29 with a layered canvas) against 32 + 16
        // multiply-adds per output value to upsample layer 1.
        assertThat(FeatureSource.inputs(generator.manifest()).stream()
                        .filter(in -> LabellerOnnx.fullResolutionFirst(in, 64, 64))
                        .map(LabellerOnnx.Input::name))
                .containsExactly("image", "feat_32");
        List<LabellerOnnx.Input> inputs = FeatureSource.inputs(generator.manifest());
        int feat32 = inputs.stream()
                .filter(in -> in.name().equals("feat_32"))
                .findFirst()
                .orElseThrow()
                .channels();
        assertThat(LabellerOnnx.exportedFlopsPerImage(ensemble, inputs, 64, 64)
                        - LabellerOnnx.flopsPerImage(ensemble, inputs, 64, 64))
                .as("feat_32's first layer at 64 x 64 instead of 32 x 32")
                .isEqualTo(2.0 * 3 * 16 * feat32 * (4096 - 1024));
    }

    @Test
    void shouldAgreeWithTheFloatReferenceWhenExportedWithEightBitArithmetic(@TempDir Path dir) throws Exception {
        List<LabellerOnnx.Input> inputs = FeatureSource.inputs(generator.manifest());
        // Calibrated on the 4 training pictures, run on all 6.
        byte[] model = LabellerOnnx.exportInt8(ensemble, inputs, 64, 64, "test", firstImages(maps, 4));
        assertThat(new String(model, java.nio.charset.StandardCharsets.ISO_8859_1))
                .contains("MatMulIntegerToFloat");
        ResolvedModel labeller = stage(dir, model);

        Map<String, FloatTensor> out = labelAll(labeller);
        Ensemble.Labels expected = ensemble.label(maps);

        assertThat(out.get(LabellerOnnx.LABELS).shape()).containsExactly(6, 64, 64);
        assertThat(out.get(LabellerOnnx.CONFIDENCE).shape()).containsExactly(6, 64, 64);
        assertThat(out.get(LabellerOnnx.UNCERTAINTY).shape()).containsExactly(6);
        float[] labels = out.get(LabellerOnnx.LABELS).data();
        float[] confidence = out.get(LabellerOnnx.CONFIDENCE).data();
        int same = 0;
        double confidenceError = 0;
        for (int p = 0; p < labels.length; p++) {
            same += labels[p] == expected.labels()[p] ? 1 : 0;
            confidenceError += Math.abs(confidence[p] - expected.confidence()[p]);
        }
        assertThat((double) same / labels.length).as("label agreement").isGreaterThan(0.98);
        assertThat(confidenceError / labels.length).as("mean confidence error").isLessThan(0.01);
        float[] u = out.get(LabellerOnnx.UNCERTAINTY).data();
        for (int i = 0; i < 6; i++) {
            assertThat(u[i])
                    .as("uncertainty of image %d", i)
                    .isCloseTo(expected.uncertainty()[i], within(0.1f * expected.uncertainty()[i] + 1e-3f));
        }
    }

    @Test
    void shouldSetTheEightBitScalesFromEveryPixelWhenThePicturesHoldFewerThanTheCap() {
        // 16 pictures, 65,536 pixels (under the cap), read by an ensemble of the image alone. One
        // pixel's colour becomes extreme (below the input limit) where a sample of every 8th pixel
        // would skip it, as such samples skipped the pixels of small parts.
        int pictures = 16;
        FeatureMaps.Level image = repeated(maps, pictures).levels().get(0);
        assertThat(image.name()).isEqualTo("image");
        FeatureMaps plain = new FeatureMaps(pictures, 64, 64, List.of(image));
        byte[] masks = new byte[pictures * 4096];
        for (int i = 0; i < pictures; i++) {
            System.arraycopy(ShapesParts.render(1, i).mask(), 0, masks, i * 4096, 4096);
        }
        Ensemble colours = LabellerTrainer.train(
                plain,
                masks,
                ShapesParts.CLASSES.size(),
                new LabellerTrainer.Settings(2, new int[] {8, 4}, 1, 10, 5, 64, 1e-3f, 2),
                (m, e, l) -> {},
                () -> false);
        int picture = 13;
        int pixel = 37 * 64 + 21;
        assertThat((picture * 4096 + pixel) % 8).isNotZero();
        LabellerOnnx.Calibration without = LabellerOnnx.calibrate(colours, plain);
        // The colour that drives member 0's first unit hardest, each channel at 0.9 of the limit.
        PixelMlp member = colours.members().get(0);
        float[] data = image.data().clone();
        for (int c = 0; c < image.channels(); c++) {
            float sign = Math.signum(member.w[0][c * member.sizes[1]]);
            data[(picture * image.channels() + c) * 4096 + pixel] =
                    colours.mean()[c] + sign * 0.9f * without.inputLimit() * colours.std()[c];
        }
        FeatureMaps changed = new FeatureMaps(
                pictures, 64, 64, List.of(new FeatureMaps.Level(image.name(), image.channels(), 1, data)));

        LabellerOnnx.Calibration with = LabellerOnnx.calibrate(colours, changed);

        assertThat(with.inputLimit())
                .as("a quantile: one pixel does not move it")
                .isEqualTo(without.inputLimit());
        assertThat(with.unitMax()[0][0])
                .as("member 0's first unit: its largest output is the changed pixel's")
                .isGreaterThan(without.unitMax()[0][0]);
    }

    /** {@code n} pictures: the maps' pictures in turn. */
    private static FeatureMaps repeated(FeatureMaps all, int n) {
        List<FeatureMaps.Level> levels = all.levels().stream()
                .map(l -> {
                    int per = l.data().length / all.images();
                    float[] data = new float[per * n];
                    for (int i = 0; i < n; i++) {
                        System.arraycopy(l.data(), (i % all.images()) * per, data, i * per, per);
                    }
                    return new FeatureMaps.Level(l.name(), l.channels(), l.stride(), data);
                })
                .toList();
        return new FeatureMaps(n, all.height(), all.width(), levels);
    }

    /** Labels the maps and closes the session: every test stages its own model under the same name. */
    private static Map<String, FloatTensor> labelAll(ResolvedModel labeller) {
        try {
            return onnx.infer(
                    labeller,
                    maps.tensors(),
                    List.of(LabellerOnnx.LABELS, LabellerOnnx.CONFIDENCE, LabellerOnnx.UNCERTAINTY));
        } finally {
            onnx.release(labeller);
        }
    }

    private static ResolvedModel stage(Path dir, byte[] model) throws java.io.IOException {
        Path folder = dir.resolve("l");
        Files.createDirectories(folder.resolve("1"));
        Files.write(folder.resolve("1/model.onnx"), model);
        Files.writeString(folder.resolve("config.pbtxt"), "name: \"l\"\nplatform: \"onnxruntime_onnx\"\n");
        return ModelRepository.open(dir).resolve("l", "", "labeller");
    }

    @Test
    void shouldTrainTheSameEnsembleForASeedWhateverTheThreadCount() {
        byte[] masks = new byte[2 * 4096];
        for (int i = 0; i < 2; i++) {
            System.arraycopy(ShapesParts.render(1, i).mask(), 0, masks, i * 4096, 4096);
        }
        FeatureMaps train = firstImages(maps, 2);
        List<LabellerOnnx.Input> inputs = FeatureSource.inputs(generator.manifest());
        byte[][] exported = new byte[3][];
        int[] threads = {1, 3, 1};
        long[] seeds = {7, 7, 8};
        for (int run = 0; run < 3; run++) {
            Ensemble e = LabellerTrainer.train(
                    train,
                    masks,
                    ShapesParts.CLASSES.size(),
                    new LabellerTrainer.Settings(3, new int[] {8, 4}, 1, 10, seeds[run], 64, 1e-3f, threads[run]),
                    (m, epoch, l) -> {},
                    () -> false);
            exported[run] = LabellerOnnx.export(e, inputs, 64, 64, "test");
        }
        assertThat(exported[1]).as("same seed, 3 threads instead of 1").isEqualTo(exported[0]);
        assertThat(exported[2]).as("another seed").isNotEqualTo(exported[0]);
    }
}

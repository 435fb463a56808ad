package dev.genaug.inference;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genaug.domain.inference.FloatTensor;
import dev.genaug.domain.labelling.LabellerOnnx;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

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
        Path root = Path.of(System.getProperty("genaug.root", "../.."));
        repository = ModelRepository.open(root.resolve("deploy/model-repository"));
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

    @AfterAll
    static void close() {
        fused.close();
    }

    @Test
    void shouldLabelAsOnnxRuntimeDoesWhenTheLabellerIsFused() {
        assertThat(FusedLabellerBackend.available()).isTrue(); // the build's test JVMs add the module
        org.junit.jupiter.api.Assumptions.assumeTrue(
                jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length() >= 16,
                "the kernel takes 512-bit vectors; this CPU has "
                        + jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize());
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
}

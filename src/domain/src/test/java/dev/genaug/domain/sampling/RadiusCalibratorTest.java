package dev.genaug.domain.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.genaug.api.model.v1.ClassRadius;
import dev.genaug.domain.inference.FloatTensor;
import dev.genaug.domain.inference.InferenceBackend;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.hipparchus.distribution.continuous.NormalDistribution;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Radius calibration against a generator and a classifier whose answer is known exactly: the
 * generator copies z_0 into the first pixel, the classifier says class 0 when that pixel is below 1
 * and class 1 otherwise. Around an anchor at the origin, a neighbour keeps class 0 with probability
 * Phi(1 / sigma), which is 0.95 at sigma = 1 / 1.6449 = 0.608.
 */
class RadiusCalibratorTest {
    private static final int D = 3;
    private static final double THRESHOLD = 1.0;
    private static final NormalDistribution STANDARD = new NormalDistribution(0, 1);

    @TempDir
    Path root;

    private ResolvedModel generator;
    private ResolvedModel classifier;

    /** Both toy models, as one inference backend. */
    private static final InferenceBackend ANALYTIC = new InferenceBackend() {
        @Override
        public Map<String, FloatTensor> infer(
                ResolvedModel model, Map<String, FloatTensor> inputs, List<String> outputs) {
            if (model.name().equals("toy-generator")) {
                FloatTensor z = inputs.get("z");
                int n = z.rows();
                float[] image = new float[n * 3];
                for (int i = 0; i < n; i++) {
                    image[i * 3] = z.data()[i * D];
                }
                return Map.of("image", new FloatTensor(new long[] {n, 3, 1, 1}, image));
            }
            FloatTensor image = inputs.get("image");
            int n = image.rows();
            float[] p = new float[n * 2];
            for (int i = 0; i < n; i++) {
                p[i * 2 + (image.data()[i * 3] < THRESHOLD ? 0 : 1)] = 1f;
            }
            return Map.of("probabilities", new FloatTensor(new long[] {n, 2}, p));
        }

        @Override
        public String name() {
            return "analytic";
        }
    };

    @BeforeEach
    void repository() throws IOException {
        // A range of [-10, 10] quantised to 8 bits moves the threshold by at most 0.04.
        ToyModels.generator(root, 3, 1);
        ToyModels.write(root, "toy-classifier", """
                name: "toy-classifier"
                platform: "onnxruntime_onnx"
                max_batch_size: 0
                input [ { name: "image" data_type: TYPE_FP32 dims: [ -1, 3, 1, 1 ] } ]
                output [ { name: "probabilities" data_type: TYPE_FP32 dims: [ -1, 2 ] } ]
                """, """
                { "formatVersion": 1, "role": "MODEL_ROLE_CLASSIFIER",
                  "image": { "width": 1, "height": 1, "channels": 3, "valueMin": -10, "valueMax": 10 },
                  "classNames": ["below", "above"] }
                """);
        ModelRepository repository = ModelRepository.open(root);
        generator = repository.resolve("toy-generator", "", "generator");
        classifier = repository.resolve("toy-classifier", "", "classifier");
    }

    private RadiusCalibrator calibrator(int views) {
        return new RadiusCalibrator(new Judge(ANALYTIC, generator, classifier), D, views, 0.95, 7);
    }

    /** {@code count} anchors, anchor a at (x, a / count, 0). */
    private static float[] anchors(int count, float x) {
        float[] out = new float[count * D];
        for (int a = 0; a < count; a++) {
            out[a * D] = x;
            out[a * D + 1] = a / (float) count;
        }
        return out;
    }

    @Test
    void shouldFindTheRadiusWhereTheAgreementCrossesTheTarget() {
        ClassRadius radius = calibrator(1000).calibrate("below", 0, anchors(4, 0f), 4, 3.0, 10);
        assertThat(radius.getSigma()).isCloseTo(THRESHOLD / STANDARD.inverseCumulativeProbability(0.95), within(0.05));
        assertThat(radius.getSigmasTried(0)).as("the upper end is tried first").isEqualTo(3.0);
        assertThat(radius.getSigmasTriedCount()).isEqualTo(11);
        // The agreement measured at each sigma tried is Phi(1 / sigma) within sampling noise.
        for (int i = 0; i < radius.getSigmasTriedCount(); i++) {
            double sigma = radius.getSigmasTried(i);
            assertThat(radius.getAgreementMeasured(i))
                    .isCloseTo(STANDARD.cumulativeProbability(THRESHOLD / sigma), within(0.03));
        }
    }

    @Test
    void shouldReturnTheUpperEndWhenTheAgreementHoldsThere() {
        // Far below the threshold, every neighbour within sigma 0.5 keeps the class.
        ClassRadius radius = calibrator(200).calibrate("below", 0, anchors(2, -9f), 2, 0.5, 10);
        assertThat(radius.getSigma()).isEqualTo(0.5);
        assertThat(radius.getSigmasTriedList()).containsExactly(0.5);
        assertThat(radius.getAgreementMeasured(0)).isEqualTo(1.0);
    }

    @Test
    void shouldReturnZeroWhenEvenTheSmallestSigmaFails() {
        // On the threshold, about half the neighbours cross it however small sigma is.
        ClassRadius radius = calibrator(200).calibrate("below", 0, anchors(2, (float) THRESHOLD), 2, 3.0, 6);
        assertThat(radius.getSigma()).isZero();
        assertThat(radius.getAgreementMeasuredList())
                .allSatisfy(a -> assertThat(a).isLessThan(0.95));
    }
}

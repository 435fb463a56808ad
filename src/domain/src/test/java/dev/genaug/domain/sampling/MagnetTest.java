package dev.genaug.domain.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.genaug.domain.error.InvalidArgumentException;
import dev.genaug.domain.inference.FloatTensor;
import dev.genaug.domain.inference.InferenceBackend;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MaGNET against a generator whose volume element is known exactly: G(z) = (g(z_0), z_1, ..., 0)
 * with g(x) = 2x for x > 0 and x elsewhere (continuous), so the Jacobian's singular values are 2
 * (or 1 where z_0 < 0) and 1 (d - 1 times): the volume is twice as large on the half z_0 > 0.
 * Its feature output "mirror" is the same map reflected: twice the volume on the half z_0 < 0.
 */
class MagnetTest {
    private static final int D = 4;

    @TempDir
    Path root;

    private ResolvedModel generator;

    /** The analytic generator, as an inference backend. */
    private static final InferenceBackend PIECEWISE_LINEAR = new InferenceBackend() {
        @Override
        public Map<String, FloatTensor> infer(
                ResolvedModel model, Map<String, FloatTensor> inputs, List<String> outputs) {
            FloatTensor z = inputs.get("z");
            int n = z.rows();
            int size = 3 * D;
            float[] out = new float[n * size];
            float[] mirror = new float[n * size];
            for (int i = 0; i < n; i++) {
                float z0 = z.data()[i * D];
                out[i * size] = z0 > 0 ? 2 * z0 : z0;
                mirror[i * size] = z0 < 0 ? 2 * z0 : z0;
                for (int j = 1; j < D; j++) {
                    out[i * size + j] = z.data()[i * D + j];
                    mirror[i * size + j] = z.data()[i * D + j];
                }
            }
            return Map.of(
                    "image", new FloatTensor(new long[] {n, 3, 1, D}, out),
                    "mirror", new FloatTensor(new long[] {n, 3, 1, D}, mirror));
        }

        @Override
        public String name() {
            return "analytic";
        }
    };

    @BeforeEach
    void repository() throws IOException {
        ToyModels.write(root, "toy-generator", """
                name: "toy-generator"
                platform: "onnxruntime_onnx"
                max_batch_size: 0
                input [ { name: "z" data_type: TYPE_FP32 dims: [ -1, 4 ] } ]
                output [ { name: "image" data_type: TYPE_FP32 dims: [ -1, 3, 1, 4 ] },
                         { name: "mirror" data_type: TYPE_FP32 dims: [ -1, 3, 1, 4 ] } ]
                """, """
                { "formatVersion": 1, "role": "MODEL_ROLE_GENERATOR",
                  "latent": { "dimension": 4, "prior": "PRIOR_STANDARD_NORMAL" },
                  "image": { "width": 4, "height": 1, "channels": 3, "valueMin": -10, "valueMax": 10 },
                  "features": [ { "name": "mirror", "channels": 3, "stride": 1 } ] }
                """);
        generator = ModelRepository.open(root).resolve("toy-generator", "", "model");
    }

    private double shareOfScaledRegion(Magnet magnet, long seed, int n) {
        float[] z = magnet.points(seed, 0, n);
        int scaled = 0;
        for (int i = 0; i < n; i++) {
            scaled += z[i * D] > 0 ? 1 : 0;
        }
        return scaled / (double) n;
    }

    @Test
    void shouldSampleInProportionToTheVolumeElement() {
        // Volume 2 on the half z_0 > 0 and 1 elsewhere, whatever k: 2/3 of the samples go there
        // (the prior would put 1/2 there).
        for (int k : new int[] {1, D}) {
            Magnet magnet = Magnet.build(PIECEWISE_LINEAR, generator, 5, 4000, k, 0.001f, "", 16, "");
            int off = 0;
            for (double v : magnet.logVolumes()) {
                off += Math.min(Math.abs(v), Math.abs(v - Math.log(2))) > 1e-3 ? 1 : 0;
            }
            assertThat(off)
                    .as("volumes other than 1 and 2 (only within epsilon of the fold)")
                    .isLessThan(10);
            assertThat(shareOfScaledRegion(magnet, 5, 6000)).as("top-k %d", k).isCloseTo(2 / 3.0, within(0.03));
        }
        assertThat(shareOfScaledRegion(
                        Magnet.build(PIECEWISE_LINEAR, generator, 5, 4000, 1, 0.001f, "", 16, ""), 6, 6000))
                .isGreaterThan(0.6);
    }

    @Test
    void shouldWeighTheNamedFeatureOutputWhenAManifoldIsGiven() {
        // The feature output has twice the volume on the other half: 1/3 of the samples go to z_0 > 0.
        Magnet magnet = Magnet.build(PIECEWISE_LINEAR, generator, 5, 4000, 1, 0.001f, "mirror", 16, "");
        assertThat(shareOfScaledRegion(magnet, 5, 6000)).isCloseTo(1 / 3.0, within(0.03));
        assertThat(magnet.parameters()).containsEntry("manifold", "mirror");
        assertThat(magnet.poolLatents())
                .as("pool latent p is prior sample (seed, p)")
                .containsExactly(PriorSampler.create(D, 1f, 0f, "").sample(5, 0, 4000));
        assertThat(Magnet.build(PIECEWISE_LINEAR, generator, 5, 10, 1, 0.001f, "image", 16, "")
                        .logVolumes())
                .as("the image named explicitly is the default")
                .containsExactly(Magnet.build(PIECEWISE_LINEAR, generator, 5, 10, 1, 0.001f, "", 16, "")
                        .logVolumes());
    }

    @Test
    void shouldGiveTheSameSamplesWhateverTheSplit() {
        Magnet magnet = Magnet.build(PIECEWISE_LINEAR, generator, 9, 500, 2, 0.01f, "", 7, "");
        float[] whole = magnet.points(9, 0, 40);
        float[] tail = magnet.points(9, 25, 15);
        assertThat(java.util.Arrays.copyOfRange(whole, 25 * D, 40 * D)).containsExactly(tail);
        assertThat(Magnet.build(PIECEWISE_LINEAR, generator, 9, 500, 2, 0.01f, "", 100, "")
                        .points(9, 0, 40))
                .as("another generator batch size")
                .containsExactly(whole);
    }

    @Test
    void shouldNameBadParameters() {
        assertThatThrownBy(() -> Magnet.build(PIECEWISE_LINEAR, generator, 1, 10, 5, 0.01f, "", 8, "magnet."))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageStartingWith("magnet.top_k: must be in 1..4");
        assertThatThrownBy(() -> Magnet.build(PIECEWISE_LINEAR, generator, 1, 0, 2, 0.01f, "", 8, "magnet."))
                .hasMessageStartingWith("magnet.pool_size:");
        assertThatThrownBy(() -> Magnet.build(PIECEWISE_LINEAR, generator, 1, 10, 2, 0f, "", 8, "magnet."))
                .hasMessageStartingWith("magnet.epsilon:");
        assertThatThrownBy(() -> Magnet.build(PIECEWISE_LINEAR, generator, 1, 10, 2, 0.01f, "feat_8", 8, "magnet."))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageStartingWith("magnet.manifold: generator toy-generator has no output \"feat_8\"")
                .hasMessageContaining("[mirror]");
    }
}

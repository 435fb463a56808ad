package dev.genaug.domain.encoding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.genaug.domain.error.CancelledException;
import dev.genaug.domain.inference.FloatTensor;
import dev.genaug.domain.inference.InferenceBackend;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Encoding#refine} against a generator whose inverse is known: the image is z itself, three times. */
class EncodingRefineTest {
    private static final int D = 4;

    @TempDir
    Path root;

    private ResolvedModel generator;
    private final AtomicInteger decodes = new AtomicInteger();

    private final InferenceBackend identity = new InferenceBackend() {
        @Override
        public Map<String, FloatTensor> infer(
                ResolvedModel model, Map<String, FloatTensor> inputs, List<String> outputs) {
            FloatTensor z = inputs.get("z");
            int n = z.rows();
            decodes.addAndGet(n);
            float[] image = new float[n * 3 * D];
            for (int i = 0; i < n; i++) {
                for (int c = 0; c < 3; c++) {
                    System.arraycopy(z.data(), i * D, image, (i * 3 + c) * D, D);
                }
            }
            return Map.of("image", new FloatTensor(new long[] {n, 3, 1, D}, image));
        }

        @Override
        public String name() {
            return "identity";
        }
    };

    @BeforeEach
    void repository() throws IOException {
        Path dir = Files.createDirectories(root.resolve("toy-generator"));
        Files.writeString(dir.resolve("config.pbtxt"), """
                name: "toy-generator"
                platform: "onnxruntime_onnx"
                max_batch_size: 0
                input [ { name: "z" data_type: TYPE_FP32 dims: [ -1, 4 ] } ]
                output [ { name: "image" data_type: TYPE_FP32 dims: [ -1, 3, 1, 4 ] } ]
                """);
        Files.writeString(dir.resolve("genaug.json"), """
                { "formatVersion": 1, "role": "MODEL_ROLE_GENERATOR",
                  "latent": { "dimension": 4, "prior": "PRIOR_STANDARD_NORMAL" },
                  "image": { "width": 4, "height": 1, "channels": 3, "valueMin": -10, "valueMax": 10 } }
                """);
        Files.createDirectories(dir.resolve("1"));
        generator = ModelRepository.open(root).resolve("toy-generator", "", "model");
    }

    /** Two images, decodes of known latents; the starting latents miss them by 0.5 per coordinate. */
    private static float[] truth() {
        return new float[] {0.3f, -1.2f, 0.8f, 2.0f, -0.7f, 0.1f, 1.5f, -0.4f};
    }

    private static float[] images(float[] z) {
        float[] out = new float[2 * 3 * D];
        for (int i = 0; i < 2; i++) {
            for (int c = 0; c < 3; c++) {
                System.arraycopy(z, i * D, out, (i * 3 + c) * D, D);
            }
        }
        return out;
    }

    private static float[] start() {
        float[] z = truth();
        for (int k = 0; k < z.length; k++) {
            z[k] += 0.5f;
        }
        return z;
    }

    @Test
    void shouldBringEveryReconstructionCloserWithinTheBudget() {
        Encoding.Refined refined =
                Encoding.refine(identity, generator, start(), images(truth()), 2, 200, 0, () -> false);
        assertThat(decodes.get())
                .as("one decode for the error before, then the budget")
                .isLessThanOrEqualTo(2 * 201);
        for (int i = 0; i < 2; i++) {
            assertThat(refined.before()[i]).isCloseTo(0.25, org.assertj.core.data.Offset.offset(1e-6));
            assertThat(refined.after()[i]).as("image %d", i).isLessThan(refined.before()[i] / 4);
        }
    }

    @Test
    void shouldRefineAnImageAlikeAloneOrInAListWhenGivenItsIndex() {
        float[] images = images(truth());
        Encoding.Refined both = Encoding.refine(identity, generator, start(), images, 2, 60, 5, () -> false);
        Encoding.Refined second = Encoding.refine(
                identity,
                generator,
                Arrays.copyOfRange(start(), D, 2 * D),
                Arrays.copyOfRange(images, 3 * D, 6 * D),
                1,
                60,
                6,
                () -> false);
        assertThat(second.latents()).containsExactly(Arrays.copyOfRange(both.latents(), D, 2 * D));
    }

    @Test
    void shouldStopBeforeDecodingWhenCancelled() {
        assertThatThrownBy(() -> Encoding.refine(identity, generator, start(), images(truth()), 2, 60, 0, () -> true))
                .isInstanceOf(CancelledException.class);
        assertThat(decodes.get()).isZero();
    }
}

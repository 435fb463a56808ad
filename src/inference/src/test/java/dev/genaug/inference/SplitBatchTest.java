package dev.genaug.inference;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genaug.domain.inference.DynamicBatcher;
import dev.genaug.domain.inference.FloatTensor;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The generator service splits a batch across idle single-threaded instances by default: the
 * reference generator must give every row bitwise the same image whichever part it ran in.
 */
class SplitBatchTest {
    @Test
    void shouldGiveBitwiseTheSameImagesWhenABatchRunsSplitAcrossInstances() throws Exception {
        Path root = Path.of(System.getProperty("genaug.root", "../.."));
        ResolvedModel model =
                ModelRepository.open(root.resolve("deploy/model-repository")).resolve("shapes-generator", "", "model");
        int d = model.manifest().getLatent().getDimension();
        float[] z = new float[64 * d];
        Random random = new Random(11);
        for (int i = 0; i < z.length; i++) {
            z[i] = (float) random.nextGaussian();
        }
        Map<String, FloatTensor> inputs = Map.of("z", new FloatTensor(new long[] {64, d}, z));
        List<Integer> parts = new CopyOnWriteArrayList<>();
        FloatTensor whole;
        FloatTensor split;
        try (OnnxBackend oneRun = new OnnxBackend(new OnnxBackend.Settings(2, false, false));
                DynamicBatcher batcher = new DynamicBatcher(
                        new OnnxBackend(new OnnxBackend.Settings(1, false, false)),
                        new DynamicBatcher.Settings(64, Duration.ZERO, 8, 3, true),
                        (name, rows) -> parts.add(rows))) {
            whole = oneRun.infer(model, inputs, List.of("image")).get("image");
            split = batcher.infer(model, inputs, List.of("image")).get("image");
        }
        assertThat(parts).containsExactlyInAnyOrder(24, 24, 16); // whole groups of 8 rows
        assertThat(split.shape()).containsExactly(whole.shape());
        assertThat(split.data()).isEqualTo(whole.data());
    }
}

package dev.genaug.inference;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genaug.domain.inference.AlignedRuns;
import dev.genaug.domain.inference.FloatTensor;
import dev.genaug.domain.random.RandomStream;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The reference generator in ONNX Runtime, run on 20 prior latents in runs of several sizes. Two of
 * them (seed 5, samples 145 and 159) have pose angles whose sine ONNX Runtime's packet routine and
 * its scalar one round apart, so their pictures differ in the last bits when they fall in the
 * ragged tail of a run; padded runs never have one.
 */
class AlignedRunsTest {
    private static final int FIRST = 140;
    private static final int COUNT = 20;

    private static OnnxBackend onnx;
    private static ResolvedModel generator;
    private static List<String> outputs;
    private static float[] latents;
    private static int d;

    @BeforeAll
    static void open() {
        Path root = Path.of(System.getProperty("genaug.root", "../.."));
        onnx = new OnnxBackend(new OnnxBackend.Settings(1, false));
        generator = ModelRepository.open(root.resolve("deploy/model-repository"))
                .resolve("shapes-generator", "", "generator");
        d = generator.manifest().getLatent().getDimension();
        outputs = new ArrayList<>(List.of("image"));
        generator.manifest().getFeaturesList().forEach(f -> outputs.add(f.getName()));
        latents = new float[COUNT * d];
        for (int i = 0; i < COUNT; i++) {
            RandomStream r = RandomStream.of(5, FIRST + i);
            for (int k = 0; k < d; k++) {
                latents[i * d + k] = (float) r.nextGaussian();
            }
        }
    }

    @AfterAll
    static void close() {
        onnx.close();
    }

    /** Every output of the COUNT latents, run in consecutive runs of {@code run} latents. */
    private static Map<String, float[]> inRunsOf(int run, boolean padded) {
        Map<String, List<FloatTensor>> parts = new HashMap<>();
        for (int start = 0; start < COUNT; start += run) {
            int n = Math.min(run, COUNT - start);
            float[] z = Arrays.copyOfRange(latents, start * d, (start + n) * d);
            Map<String, FloatTensor> out = padded
                    ? AlignedRuns.infer(onnx, generator, "z", z, n, d, outputs)
                    : onnx.infer(generator, Map.of("z", new FloatTensor(new long[] {n, d}, z)), outputs);
            out.forEach((name, t) ->
                    parts.computeIfAbsent(name, k -> new ArrayList<>()).add(t));
        }
        Map<String, float[]> all = new HashMap<>();
        parts.forEach((name, ts) -> all.put(name, FloatTensor.concat(ts).data()));
        return all;
    }

    /** The samples whose outputs differ in any bit between the two runs' results. */
    private static List<Integer> differing(Map<String, float[]> a, Map<String, float[]> b) {
        List<Integer> samples = new ArrayList<>();
        for (int i = 0; i < COUNT; i++) {
            for (String name : outputs) {
                int per = a.get(name).length / COUNT;
                if (!Arrays.equals(
                        Arrays.copyOfRange(a.get(name), i * per, (i + 1) * per),
                        Arrays.copyOfRange(b.get(name), i * per, (i + 1) * per))) {
                    samples.add(FIRST + i);
                    break;
                }
            }
        }
        return samples;
    }

    @Test
    void shouldGiveEveryPictureTheOutputsOfItsLatentAloneWhateverTheRunsItFallsIn() {
        // The premise: unpadded, a run of 20 (both in packets) and runs of one (both in tails)
        // differ for the two samples; otherwise this test would show nothing.
        assertThat(differing(inRunsOf(20, false), inRunsOf(1, false))).containsExactly(145, 159);

        Map<String, float[]> reference = inRunsOf(1, true);
        for (int run : new int[] {20, 7, 5, 3}) {
            assertThat(differing(inRunsOf(run, true), reference))
                    .as("padded runs of %d against runs of one", run)
                    .isEmpty();
        }
    }
}

package dev.genaug.domain.labelling;

import dev.genaug.api.model.v1.FeatureOutput;
import dev.genaug.api.model.v1.ModelManifest;
import dev.genaug.domain.inference.AlignedRuns;
import dev.genaug.domain.inference.FloatTensor;
import dev.genaug.domain.inference.InferenceBackend;
import dev.genaug.domain.repository.ResolvedModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Runs a generator for the outputs a labeller reads: its image (stride 1) and its feature maps. */
public final class FeatureSource {
    /** Latents per generator run (padded to whole packets: {@link AlignedRuns}). */
    private static final int CHUNK = 64;

    private FeatureSource() {}

    /** The labeller inputs a generator offers, image first. */
    public static List<LabellerOnnx.Input> inputs(ModelManifest generator) {
        List<LabellerOnnx.Input> inputs = new ArrayList<>();
        inputs.add(new LabellerOnnx.Input(
                generator.getTensorsOrDefault("image", "image"),
                generator.getImage().getChannels(),
                1));
        for (FeatureOutput f : generator.getFeaturesList()) {
            inputs.add(new LabellerOnnx.Input(f.getName(), f.getChannels(), f.getStride()));
        }
        return inputs;
    }

    /** Generates rows latents and keeps the outputs in {@code inputs}, as FeatureMaps. */
    public static FeatureMaps generate(
            InferenceBackend backend,
            ResolvedModel generator,
            List<LabellerOnnx.Input> inputs,
            float[] latents,
            int rows) {
        return generate(backend, generator, inputs, latents, rows, CHUNK);
    }

    /** As above, {@code chunk} latents per generator run. */
    public static FeatureMaps generate(
            InferenceBackend backend,
            ResolvedModel generator,
            List<LabellerOnnx.Input> inputs,
            float[] latents,
            int rows,
            int chunk) {
        ModelManifest m = generator.manifest();
        int d = m.getLatent().getDimension();
        String z = m.getTensorsOrDefault("latent", "z");
        List<String> names = inputs.stream().map(LabellerOnnx.Input::name).toList();
        Map<String, List<FloatTensor>> parts = new HashMap<>();
        for (int start = 0; start < rows; start += chunk) {
            int n = Math.min(chunk, rows - start);
            Map<String, FloatTensor> out = AlignedRuns.infer(
                    backend, generator, z, Arrays.copyOfRange(latents, start * d, (start + n) * d), n, d, names);
            for (String name : names) {
                parts.computeIfAbsent(name, k -> new ArrayList<>()).add(out.get(name));
            }
        }
        List<FeatureMaps.Level> levels = new ArrayList<>();
        for (LabellerOnnx.Input in : inputs) {
            levels.add(new FeatureMaps.Level(
                    in.name(),
                    in.channels(),
                    in.stride(),
                    FloatTensor.concat(parts.get(in.name())).data()));
        }
        return new FeatureMaps(rows, m.getImage().getHeight(), m.getImage().getWidth(), levels);
    }
}

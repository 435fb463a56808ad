package dev.genaug.domain.sampling;

import dev.genaug.domain.inference.FloatTensor;
import dev.genaug.domain.inference.InferenceBackend;
import dev.genaug.domain.repository.ResolvedModel;
import dev.genaug.domain.tensor.ImageCodec;
import java.util.List;
import java.util.Map;

/**
 * Decodes latents and asks a classifier what it sees: the reference model's measure of what a
 * sample is. Images are quantised to 8 bits first, as in any dataset genaug writes.
 */
public final class Judge {
    private final InferenceBackend backend;
    private final ResolvedModel generator;
    private final ResolvedModel classifier;

    public Judge(InferenceBackend backend, ResolvedModel generator, ResolvedModel classifier) {
        this.backend = backend;
        this.generator = generator;
        this.classifier = classifier;
    }

    public List<String> classNames() {
        return classifier.manifest().getClassNamesList();
    }

    /** Class probabilities, row-major [rows, classes]. */
    public float[] probabilities(float[] latents, int rows) {
        int d = generator.manifest().getLatent().getDimension();
        String z = generator.manifest().getTensorsOrDefault("latent", "z");
        String image = generator.manifest().getTensorsOrDefault("image", "image");
        float min = generator.manifest().getImage().getValueMin();
        float max = generator.manifest().getImage().getValueMax();
        float[] out = new float[rows * classNames().size()];
        for (int start = 0; start < rows; start += 256) {
            int n = Math.min(256, rows - start);
            float[] part = java.util.Arrays.copyOfRange(latents, start * d, (start + n) * d);
            FloatTensor images = backend.infer(
                            generator, Map.of(z, new FloatTensor(new long[] {n, d}, part)), List.of(image))
                    .get(image);
            float[] quantised = ImageCodec.fromUint8(ImageCodec.toUint8(images.data(), min, max), min, max);
            images = new FloatTensor(images.shape(), quantised);
            String in = classifier.manifest().getTensorsOrDefault("image", "image");
            String probs = classifier.manifest().getTensorsOrDefault("probabilities", "probabilities");
            FloatTensor p = backend.infer(classifier, Map.of(in, images), List.of(probs))
                    .get(probs);
            System.arraycopy(p.data(), 0, out, start * classNames().size(), p.data().length);
        }
        return out;
    }

    /** The most probable class of each row. */
    public int[] classes(float[] latents, int rows) {
        float[] p = probabilities(latents, rows);
        int k = classNames().size();
        int[] out = new int[rows];
        for (int i = 0; i < rows; i++) {
            out[i] = argmax(p, i, k);
        }
        return out;
    }

    /** The most probable of the {@code k} classes of row {@code row} of row-major probabilities. */
    public static int argmax(float[] probabilities, int row, int k) {
        int best = 0;
        for (int c = 1; c < k; c++) {
            if (probabilities[row * k + c] > probabilities[row * k + best]) {
                best = c;
            }
        }
        return best;
    }
}

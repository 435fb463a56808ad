package dev.genaug.cli;

import dev.genaug.api.model.v1.ImageSpec;
import dev.genaug.domain.encoding.Encoding;
import dev.genaug.domain.inference.InferenceBackend;
import dev.genaug.domain.repository.ResolvedModel;
import dev.genaug.domain.tensor.ImageCodec;
import java.util.List;

/** Renders of the reference dataset through an encoder, in this process (the CLI's own tools). */
final class RenderEncoding {
    private static final int CHUNK = 256;

    private RenderEncoding() {}

    /**
     * Posterior means of images given as planar 8-bit RGB, row-major [images, d].
     *
     * @param rgb each image as the renderer gives it ({@code ShapesParts.Sample.rgb()})
     */
    static float[] encode(InferenceBackend backend, ResolvedModel encoder, List<byte[]> rgb) {
        return encode(backend, encoder, null, 0, rgb);
    }

    /**
     * Posterior means, each refined with {@code refineEvaluations} runs of {@code generator} when
     * that is above 0 (image i of the list seeds its search with i, as the labeller's training
     * does, so a render is refined alike wherever it is encoded from).
     */
    static float[] encode(
            InferenceBackend backend,
            ResolvedModel encoder,
            ResolvedModel generator,
            int refineEvaluations,
            List<byte[]> rgb) {
        ImageSpec spec = encoder.manifest().getImage();
        int pixels = spec.getChannels() * spec.getHeight() * spec.getWidth();
        int d = encoder.manifest().getLatent().getDimension();
        float[] out = new float[rgb.size() * d];
        for (int s = 0; s < rgb.size(); s += CHUNK) {
            int rows = Math.min(CHUNK, rgb.size() - s);
            float[] x = new float[rows * pixels];
            for (int i = 0; i < rows; i++) {
                float[] px = ImageCodec.fromUint8(rgb.get(s + i), spec.getValueMin(), spec.getValueMax());
                System.arraycopy(px, 0, x, i * pixels, pixels);
            }
            float[] means = Encoding.means(backend, encoder, x, rows);
            if (refineEvaluations > 0) {
                means = Encoding.refine(backend, generator, means, x, rows, refineEvaluations, s, () -> false)
                        .latents();
            }
            System.arraycopy(means, 0, out, s * d, rows * d);
        }
        return out;
    }
}

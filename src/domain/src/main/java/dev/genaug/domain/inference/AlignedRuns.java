package dev.genaug.domain.inference;

import dev.genaug.domain.repository.ResolvedModel;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Generator runs whose every row is computed the same way whatever the run's size. ONNX Runtime's
 * element-wise kernels compute a tensor's values in vector packets and its last (count mod packet
 * size) values one by one with the scalar routine, and for some arguments the two round apart: the
 * reference generator's Sin, on one pose angle per picture, gave about one picture in 120 a
 * last-bit difference (up to 2e-4 in its features) when it fell in the last rows of a run whose
 * size is not a multiple of 4 (docs/labelling.md, Determinism). A run padded to a multiple of
 * {@link #ROWS} rows has no such tail, and a picture's outputs are then those of its latent alone.
 */
public final class AlignedRuns {
    /**
     * Rows a run's size is kept a multiple of: packets of 4 floats (ONNX Runtime's own x86 and ARM
     * builds) and of 8 (builds for AVX) both divide it.
     */
    public static final int ROWS = 8;

    private AlignedRuns() {}

    /** {@code rows} rounded up to a multiple of {@link #ROWS}. */
    public static int rounded(int rows) {
        return (rows + ROWS - 1) / ROWS * ROWS;
    }

    /**
     * Runs {@code model} on {@code rows} latents of {@code dimension} values under the input
     * {@code input}, padded with copies of the last latent to a multiple of {@link #ROWS} rows, and
     * returns the outputs of the given rows only.
     */
    public static Map<String, FloatTensor> infer(
            InferenceBackend backend,
            ResolvedModel model,
            String input,
            float[] latents,
            int rows,
            int dimension,
            List<String> outputs) {
        int padded = rounded(rows);
        float[] z = latents;
        if (padded != rows || latents.length != rows * dimension) {
            z = Arrays.copyOf(latents, padded * dimension);
            for (int r = rows; r < padded; r++) {
                System.arraycopy(latents, (rows - 1) * dimension, z, r * dimension, dimension);
            }
        }
        Map<String, FloatTensor> out =
                backend.infer(model, Map.of(input, new FloatTensor(new long[] {padded, dimension}, z)), outputs);
        if (padded == rows) {
            return out;
        }
        Map<String, FloatTensor> mine = new LinkedHashMap<>();
        out.forEach((name, t) -> mine.put(name, t.slice(0, rows)));
        return mine;
    }
}

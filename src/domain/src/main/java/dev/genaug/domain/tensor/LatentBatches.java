package dev.genaug.domain.tensor;

import dev.genaug.api.common.v1.Tensor;
import dev.genaug.domain.error.InvalidArgumentException;
import dev.genaug.domain.error.ResourceExhaustedException;

/** Checks of a latent batch tensor [N, d]. */
public final class LatentBatches {
    private LatentBatches() {}

    /**
     * Validates {@code latents} as FP32/FP16 [N, d] with 1 <= N <= maxRows, d = dimension, every
     * value finite; returns the values row-major.
     */
    public static float[] validate(Tensor latents, int dimension, int maxRows, String field) {
        if (latents.getShapeCount() != 2) {
            throw new InvalidArgumentException(
                    field + ".shape", "must be [N, " + dimension + "], got " + latents.getShapeList());
        }
        long rows = latents.getShape(0);
        if (rows < 1) {
            throw new InvalidArgumentException(field + ".shape[0]", "the batch is empty: N must be >= 1");
        }
        if (rows > maxRows) {
            throw new ResourceExhaustedException(
                    field + ".shape[0]: " + rows + " latents are above this service's cap of " + maxRows
                            + " per request (use the streaming call or split the batch)");
        }
        if (latents.getShape(1) != dimension) {
            throw new InvalidArgumentException(
                    field + ".shape[1]",
                    "the model's latent dimension is " + dimension + ", got " + latents.getShape(1));
        }
        float[] values = Tensors.toFloats(latents, field);
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                throw new InvalidArgumentException(
                        field + ".data",
                        "row " + (i / dimension) + ", column " + (i % dimension) + " is " + values[i]
                                + " (every value must be finite)");
            }
        }
        return values;
    }
}

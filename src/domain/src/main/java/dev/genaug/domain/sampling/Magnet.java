package dev.genaug.domain.sampling;

import dev.genaug.domain.error.InvalidArgumentException;
import dev.genaug.domain.inference.FloatTensor;
import dev.genaug.domain.inference.InferenceBackend;
import dev.genaug.domain.random.RandomStream;
import dev.genaug.domain.repository.ResolvedModel;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.hipparchus.linear.EigenDecompositionSymmetric;
import org.hipparchus.linear.MatrixUtils;

/**
 * MaGNET sampling (Humayun, Balestriero and Baraniuk, 2022): samples spread uniformly over the
 * generated manifold instead of following the prior. A pool of prior latents is pushed through the
 * generator; each gets the volume element of the generator at that point, the product of the
 * top-k singular values of its Jacobian (finite differences, d + 1 generator rows per latent,
 * batched); samples are then drawn from the pool with probability proportional to that volume.
 * Regions the prior over-represents (the generator packs many latents into little image space)
 * are down-weighted. The manifold is the generator's image by default; it can be one of its
 * feature outputs instead (the MaGNET authors weigh StyleGAN's style space as well as its
 * pixels), where the volume measures how much that layer's representation moves rather than
 * every pixel, so an object's pose and size weigh less.
 *
 * <p>Pool latent p is prior sample (seed, p); output sample i picks its pool entry with a draw from
 * a second stream keyed (seed, i), so outputs do not depend on how a request is split.
 */
public final class Magnet implements LatentOperator {
    public static final String OPERATOR = "magnet";
    /** Offset of the resampling stream's seed from the pool's, so the two never share draws. */
    private static final long RESAMPLING_SEED = 0x6D61676E6574L; // "magnet"

    private final int dimension;
    private final float[] pool;
    private final double[] logVolumes;
    private final double[] cumulative;
    private final int topK;
    private final float epsilon;
    private final String manifold;

    private Magnet(int dimension, float[] pool, double[] logVolumes, int topK, float epsilon, String manifold) {
        this.dimension = dimension;
        this.pool = pool;
        this.logVolumes = logVolumes;
        this.topK = topK;
        this.epsilon = epsilon;
        this.manifold = manifold;
        double max = Arrays.stream(logVolumes).max().orElse(0);
        cumulative = new double[logVolumes.length];
        double sum = 0;
        for (int p = 0; p < logVolumes.length; p++) {
            sum += Math.exp(logVolumes[p] - max);
            cumulative[p] = sum;
        }
    }

    /**
     * Builds the weighted pool.
     *
     * @param poolSize prior latents weighed, >= 1
     * @param topK singular values in the volume, 1..d
     * @param epsilon finite-difference step in latent units, > 0
     * @param manifold the generator output whose volume is measured: empty for the image, else the
     *     name of one of its feature outputs
     * @param batchLatents pool latents per generator call ((d + 1) rows each)
     */
    public static Magnet build(
            InferenceBackend backend,
            ResolvedModel generator,
            long seed,
            int poolSize,
            int topK,
            float epsilon,
            String manifold,
            int batchLatents,
            String fieldPrefix) {
        int d = generator.manifest().getLatent().getDimension();
        String latentInput = generator.manifest().getTensorsOrDefault("latent", "z");
        String imageOutput = generator.manifest().getTensorsOrDefault("image", "image");
        List<String> features = generator.manifest().getFeaturesList().stream()
                .map(f -> f.getName())
                .toList();
        String output = manifold.isEmpty() ? imageOutput : manifold;
        if (!output.equals(imageOutput) && !features.contains(output)) {
            throw new InvalidArgumentException(
                    fieldPrefix + "manifold",
                    "generator " + generator.name() + " has no output \"" + manifold + "\"; empty (the image), "
                            + imageOutput + (features.isEmpty() ? "" : " or one of " + features));
        }
        if (poolSize < 1) {
            throw new InvalidArgumentException(fieldPrefix + "pool_size", "must be >= 1, got " + poolSize);
        }
        if (topK < 1 || topK > d) {
            throw new InvalidArgumentException(fieldPrefix + "top_k", "must be in 1.." + d + ", got " + topK);
        }
        if (!(epsilon > 0f) || Float.isInfinite(epsilon)) {
            throw new InvalidArgumentException(fieldPrefix + "epsilon", "must be finite and > 0, got " + epsilon);
        }
        float[] pool = PriorSampler.create(d, 1f, 0f, "").sample(seed, 0, poolSize);
        double[] logVolumes = new double[poolSize];
        int rowsPer = d + 1;
        for (int start = 0; start < poolSize; start += batchLatents) {
            int n = Math.min(batchLatents, poolSize - start);
            float[] rows = new float[n * rowsPer * d];
            for (int i = 0; i < n; i++) {
                int base = i * rowsPer * d;
                System.arraycopy(pool, (start + i) * d, rows, base, d);
                for (int j = 0; j < d; j++) {
                    int row = base + (j + 1) * d;
                    System.arraycopy(pool, (start + i) * d, rows, row, d);
                    rows[row + j] += epsilon;
                }
            }
            FloatTensor images = backend.infer(
                            generator,
                            Map.of(latentInput, new FloatTensor(new long[] {(long) n * rowsPer, d}, rows)),
                            List.of(output))
                    .get(output);
            int size = images.data().length / (n * rowsPer);
            for (int i = 0; i < n; i++) {
                logVolumes[start + i] = logVolume(images.data(), i * rowsPer * size, size, d, epsilon, topK);
            }
        }
        return new Magnet(d, pool, logVolumes, topK, epsilon, output);
    }

    /** Sum of the logs of the top-k singular values of the finite-difference Jacobian. */
    static double logVolume(float[] images, int offset, int size, int d, float epsilon, int topK) {
        // Columns j of J: (G(z + eps e_j) - G(z)) / eps; the Gram matrix J^T J is d x d.
        double[][] columns = new double[d][size];
        for (int j = 0; j < d; j++) {
            int at = offset + (j + 1) * size;
            for (int k = 0; k < size; k++) {
                columns[j][k] = (images[at + k] - (double) images[offset + k]) / epsilon;
            }
        }
        double[][] gram = new double[d][d];
        for (int a = 0; a < d; a++) {
            for (int b = a; b < d; b++) {
                double s = 0;
                double[] ca = columns[a];
                double[] cb = columns[b];
                for (int k = 0; k < size; k++) {
                    s += ca[k] * cb[k];
                }
                gram[a][b] = s;
                gram[b][a] = s;
            }
        }
        double[] eigen = new EigenDecompositionSymmetric(MatrixUtils.createRealMatrix(gram)).getEigenvalues();
        double[] sorted = eigen.clone();
        Arrays.sort(sorted);
        double log = 0;
        for (int i = 0; i < topK; i++) {
            // Singular values are the square roots of the Gram matrix's eigenvalues.
            log += 0.5 * Math.log(Math.max(sorted[sorted.length - 1 - i], 1e-30));
        }
        return log;
    }

    /** Index of the pool entry sample {@code index} takes. */
    public int poolIndex(long seed, long index) {
        double u = RandomStream.of(seed + RESAMPLING_SEED, index).nextDouble() * cumulative[cumulative.length - 1];
        int at = Arrays.binarySearch(cumulative, u);
        return Math.min(cumulative.length - 1, at >= 0 ? at + 1 : -at - 1);
    }

    /** Effective number of distinct pool entries the weights allow (Kish): 1 to pool size. */
    public double effectivePoolSize() {
        double total = cumulative[cumulative.length - 1];
        double sumSq = 0;
        double previous = 0;
        for (double c : cumulative) {
            double w = (c - previous) / total;
            sumSq += w * w;
            previous = c;
        }
        return 1 / sumSq;
    }

    /** The pool's latents, row-major [pool size, d], in the order of {@link #logVolumes()}. */
    public float[] poolLatents() {
        return pool.clone();
    }

    public double[] logVolumes() {
        return logVolumes.clone();
    }

    public int poolSize() {
        return logVolumes.length;
    }

    @Override
    public String name() {
        return OPERATOR;
    }

    @Override
    public int dimension() {
        return dimension;
    }

    @Override
    public void pointInto(long seed, long index, float[] out, int offset) {
        System.arraycopy(pool, poolIndex(seed, index) * dimension, out, offset, dimension);
    }

    @Override
    public Map<String, String> parameters() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("pool_size", Integer.toString(logVolumes.length));
        p.put("top_k", Integer.toString(topK));
        p.put("epsilon", Float.toString(epsilon));
        p.put("manifold", manifold);
        return p;
    }
}

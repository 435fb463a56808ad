package dev.genaug.domain.labelling;

import dev.genaug.domain.random.RandomStream;

/**
 * One ensemble member: a per-pixel MLP in -> hidden... -> classes with ReLU then BatchNorm after
 * every hidden layer (DatasetGAN's "style interpreter"), trained with Adam on softmax
 * cross-entropy. Weights are stored [in][out] so every inner loop runs over contiguous outputs and
 * the JIT vectorises it. Not thread-safe: one member per thread.
 */
final class PixelMlp {
    static final float BN_EPS = 1e-5f;
    private static final float BN_MOMENTUM = 0.1f;

    final int[] sizes; // in, hidden..., classes
    final float[][] w; // layer l: [sizes[l]][sizes[l + 1]]
    final float[][] b;
    final float[][] gamma; // hidden layers only
    final float[][] beta;
    final float[][] runMean;
    final float[][] runVar;
    private Adam adam;
    // Training buffers, sized for one batch.
    private int capacity;
    private float[][] act; // act[0] = input, act[l + 1] = output of layer l (after BN for hidden)
    private float[][] pre; // pre-activation of hidden layer l (before ReLU)
    private float[][] norm; // normalised ReLU output of hidden layer l
    private float[][] invStd;
    private float[][] grad;

    PixelMlp(int[] sizes, RandomStream init) {
        this.sizes = sizes.clone();
        int layers = sizes.length - 1;
        w = new float[layers][];
        b = new float[layers][];
        gamma = new float[layers - 1][];
        beta = new float[layers - 1][];
        runMean = new float[layers - 1][];
        runVar = new float[layers - 1][];
        for (int l = 0; l < layers; l++) {
            int in = sizes[l];
            int out = sizes[l + 1];
            // PyTorch's Linear default: uniform in +-1/sqrt(fan in).
            float bound = (float) (1 / Math.sqrt(in));
            w[l] = new float[in * out];
            for (int i = 0; i < w[l].length; i++) {
                w[l][i] = (float) ((2 * init.nextDouble() - 1) * bound);
            }
            b[l] = new float[out];
            for (int i = 0; i < out; i++) {
                b[l][i] = (float) ((2 * init.nextDouble() - 1) * bound);
            }
            if (l < layers - 1) {
                gamma[l] = filled(out, 1f);
                beta[l] = new float[out];
                runMean[l] = new float[out];
                runVar[l] = filled(out, 1f);
            }
        }
    }

    /** A copy for inference whose class logits are moved by {@code shift} (one value per class). */
    PixelMlp withLogitShift(float[] shift) {
        return new PixelMlp(this, shift);
    }

    private PixelMlp(PixelMlp trained, float[] shift) {
        sizes = trained.sizes.clone();
        w = deepCopy(trained.w);
        b = deepCopy(trained.b);
        gamma = deepCopy(trained.gamma);
        beta = deepCopy(trained.beta);
        runMean = deepCopy(trained.runMean);
        runVar = deepCopy(trained.runVar);
        float[] last = b[b.length - 1];
        for (int c = 0; c < last.length; c++) {
            last[c] += shift[c];
        }
    }

    private static float[][] deepCopy(float[][] a) {
        float[][] out = new float[a.length][];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i].clone();
        }
        return out;
    }

    private static float[] filled(int n, float v) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    int layers() {
        return sizes.length - 1;
    }

    int classes() {
        return sizes[sizes.length - 1];
    }

    /** out[rows x out] = in[rows x k] . w[k x out] + bias. */
    static void affine(float[] in, int rows, int k, float[] weights, float[] bias, float[] out, int outSize) {
        for (int r = 0; r < rows; r++) {
            int o = r * outSize;
            System.arraycopy(bias, 0, out, o, outSize);
            int a = r * k;
            for (int i = 0; i < k; i++) {
                float v = in[a + i];
                if (v == 0f) {
                    continue;
                }
                int wi = i * outSize;
                for (int j = 0; j < outSize; j++) {
                    out[o + j] += v * weights[wi + j];
                }
            }
        }
    }

    /** Class logits of rows of inputs with the running BatchNorm statistics (inference). */
    float[] logits(float[] x, int rows) {
        float[] a = x;
        for (int l = 0; l < layers(); l++) {
            int in = sizes[l];
            int out = sizes[l + 1];
            float[] z = new float[rows * out];
            affine(a, rows, in, w[l], b[l], z, out);
            if (l < layers() - 1) {
                for (int j = 0; j < out; j++) {
                    float scale = gamma[l][j] / (float) Math.sqrt(runVar[l][j] + BN_EPS);
                    float shift = beta[l][j] - scale * runMean[l][j];
                    for (int r = 0; r < rows; r++) {
                        int p = r * out + j;
                        z[p] = Math.max(z[p], 0f) * scale + shift;
                    }
                }
            }
            a = z;
        }
        return a;
    }

    private void ensure(int rows) {
        if (rows <= capacity) {
            return;
        }
        capacity = rows;
        int layers = layers();
        act = new float[layers + 1][];
        pre = new float[layers - 1][];
        norm = new float[layers - 1][];
        invStd = new float[layers - 1][];
        grad = new float[layers + 1][];
        act[0] = new float[rows * sizes[0]];
        for (int l = 0; l < layers; l++) {
            act[l + 1] = new float[rows * sizes[l + 1]];
            grad[l + 1] = new float[rows * sizes[l + 1]];
            if (l < layers - 1) {
                pre[l] = new float[rows * sizes[l + 1]];
                norm[l] = new float[rows * sizes[l + 1]];
                invStd[l] = new float[sizes[l + 1]];
            }
        }
        grad[0] = new float[rows * sizes[0]];
    }

    /** The input buffer of the next {@link #step} (rows x in), filled by the caller. */
    float[] input(int rows) {
        ensure(rows);
        return act[0];
    }

    /**
     * One Adam step on a batch whose inputs were written into {@link #input}.
     *
     * @return the batch's mean cross-entropy, nats
     */
    double step(int rows, byte[] labels, float learningRate) {
        if (adam == null) {
            adam = new Adam(this);
        }
        int layers = layers();
        for (int l = 0; l < layers; l++) {
            int in = sizes[l];
            int out = sizes[l + 1];
            if (l < layers - 1) {
                affine(act[l], rows, in, w[l], b[l], pre[l], out);
                batchNorm(l, rows, out);
            } else {
                affine(act[l], rows, in, w[l], b[l], act[l + 1], out);
            }
        }
        int classes = classes();
        float[] logits = act[layers];
        float[] dLogits = grad[layers];
        double loss = 0;
        for (int r = 0; r < rows; r++) {
            int o = r * classes;
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < classes; j++) {
                max = Math.max(max, logits[o + j]);
            }
            double sum = 0;
            for (int j = 0; j < classes; j++) {
                sum += Math.exp(logits[o + j] - max);
            }
            int y = labels[r] & 0xff;
            loss += Math.log(sum) - (logits[o + y] - max);
            for (int j = 0; j < classes; j++) {
                double p = Math.exp(logits[o + j] - max) / sum;
                dLogits[o + j] = (float) ((p - (j == y ? 1 : 0)) / rows);
            }
        }
        backward(rows);
        adam.update(this, learningRate);
        return loss / rows;
    }

    private void batchNorm(int l, int rows, int out) {
        float[] z = pre[l];
        float[] n = norm[l];
        float[] y = act[l + 1];
        for (int j = 0; j < out; j++) {
            double s = 0;
            for (int r = 0; r < rows; r++) {
                s += Math.max(z[r * out + j], 0f);
            }
            double mean = s / rows;
            double v = 0;
            for (int r = 0; r < rows; r++) {
                double d = Math.max(z[r * out + j], 0f) - mean;
                v += d * d;
            }
            double var = v / rows;
            float inv = (float) (1 / Math.sqrt(var + BN_EPS));
            invStd[l][j] = inv;
            for (int r = 0; r < rows; r++) {
                int p = r * out + j;
                float xh = (float) ((Math.max(z[p], 0f) - mean) * inv);
                n[p] = xh;
                y[p] = gamma[l][j] * xh + beta[l][j];
            }
            runMean[l][j] = (1 - BN_MOMENTUM) * runMean[l][j] + BN_MOMENTUM * (float) mean;
            float unbiased = rows > 1 ? (float) (v / (rows - 1)) : (float) var;
            runVar[l][j] = (1 - BN_MOMENTUM) * runVar[l][j] + BN_MOMENTUM * unbiased;
        }
    }

    private void backward(int rows) {
        int layers = layers();
        for (int l = layers - 1; l >= 0; l--) {
            int in = sizes[l];
            int out = sizes[l + 1];
            float[] dz = grad[l + 1];
            if (l < layers - 1) {
                // grad[l + 1] holds dLoss/d(BN output); turn it into dLoss/d(pre-activation).
                float[] xh = norm[l];
                float[] z = pre[l];
                for (int j = 0; j < out; j++) {
                    double sumDy = 0;
                    double sumDyXh = 0;
                    for (int r = 0; r < rows; r++) {
                        int p = r * out + j;
                        sumDy += dz[p];
                        sumDyXh += dz[p] * xh[p];
                    }
                    adam.gGamma[l][j] = (float) sumDyXh;
                    adam.gBeta[l][j] = (float) sumDy;
                    float g = gamma[l][j];
                    float k = g * invStd[l][j] / rows;
                    for (int r = 0; r < rows; r++) {
                        int p = r * out + j;
                        float dr = (float) (k * (rows * dz[p] - sumDy - xh[p] * sumDyXh));
                        dz[p] = z[p] > 0 ? dr : 0f;
                    }
                }
            }
            float[] gw = adam.gW[l];
            float[] gb = adam.gB[l];
            java.util.Arrays.fill(gw, 0f);
            java.util.Arrays.fill(gb, 0f);
            float[] a = act[l];
            for (int r = 0; r < rows; r++) {
                int o = r * out;
                for (int j = 0; j < out; j++) {
                    gb[j] += dz[o + j];
                }
                int ai = r * in;
                for (int i = 0; i < in; i++) {
                    float v = a[ai + i];
                    if (v == 0f) {
                        continue;
                    }
                    int wi = i * out;
                    for (int j = 0; j < out; j++) {
                        gw[wi + j] += v * dz[o + j];
                    }
                }
            }
            if (l > 0) {
                float[] da = grad[l];
                float[] weights = w[l];
                for (int r = 0; r < rows; r++) {
                    int o = r * out;
                    for (int i = 0; i < in; i++) {
                        int wi = i * out;
                        float s = 0;
                        for (int j = 0; j < out; j++) {
                            s += dz[o + j] * weights[wi + j];
                        }
                        da[r * in + i] = s;
                    }
                }
            }
        }
    }

    /** Adam (Kingma and Ba) with PyTorch's defaults: betas 0.9 / 0.999, eps 1e-8, no decay. */
    static final class Adam {
        final float[][] gW;
        final float[][] gB;
        final float[][] gGamma;
        final float[][] gBeta;
        private final float[][][] m;
        private final float[][][] v;
        private long t;

        Adam(PixelMlp net) {
            int layers = net.layers();
            gW = new float[layers][];
            gB = new float[layers][];
            gGamma = new float[layers - 1][];
            gBeta = new float[layers - 1][];
            for (int l = 0; l < layers; l++) {
                gW[l] = new float[net.w[l].length];
                gB[l] = new float[net.b[l].length];
                if (l < layers - 1) {
                    gGamma[l] = new float[net.gamma[l].length];
                    gBeta[l] = new float[net.beta[l].length];
                }
            }
            float[][] params = params(net);
            m = new float[1][params.length][];
            v = new float[1][params.length][];
            for (int i = 0; i < params.length; i++) {
                m[0][i] = new float[params[i].length];
                v[0][i] = new float[params[i].length];
            }
        }

        private static float[][] params(PixelMlp net) {
            java.util.List<float[]> all = new java.util.ArrayList<>();
            for (int l = 0; l < net.layers(); l++) {
                all.add(net.w[l]);
                all.add(net.b[l]);
                if (l < net.layers() - 1) {
                    all.add(net.gamma[l]);
                    all.add(net.beta[l]);
                }
            }
            return all.toArray(float[][]::new);
        }

        private float[][] grads() {
            java.util.List<float[]> all = new java.util.ArrayList<>();
            for (int l = 0; l < gW.length; l++) {
                all.add(gW[l]);
                all.add(gB[l]);
                if (l < gW.length - 1) {
                    all.add(gGamma[l]);
                    all.add(gBeta[l]);
                }
            }
            return all.toArray(float[][]::new);
        }

        void update(PixelMlp net, float lr) {
            t++;
            float b1 = 0.9f;
            float b2 = 0.999f;
            float c1 = (float) (1 - Math.pow(b1, t));
            float c2 = (float) (1 - Math.pow(b2, t));
            float step = (float) (lr * Math.sqrt(c2) / c1);
            float epsHat = (float) (1e-8 * Math.sqrt(c2));
            float[][] params = params(net);
            float[][] grads = grads();
            for (int i = 0; i < params.length; i++) {
                float[] p = params[i];
                float[] g = grads[i];
                float[] mi = m[0][i];
                float[] vi = v[0][i];
                for (int k = 0; k < p.length; k++) {
                    float gk = g[k];
                    mi[k] = b1 * mi[k] + (1 - b1) * gk;
                    vi[k] = b2 * vi[k] + (1 - b2) * gk * gk;
                    p[k] -= step * mi[k] / ((float) Math.sqrt(vi[k]) + epsHat);
                }
            }
        }
    }
}

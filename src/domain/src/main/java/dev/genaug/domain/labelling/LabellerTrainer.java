package dev.genaug.domain.labelling;

import dev.genaug.domain.error.CancelledException;
import dev.genaug.domain.random.RandomStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;

/**
 * Trains an ensemble of {@link PixelMlp}s on annotated pixels, streaming each mini-batch's features
 * from the native feature maps. Member m draws its initial weights from the stream (seed, 2m) and
 * its pixel order from (seed, 2m + 1), so the result depends on the seed alone, not on how many
 * threads train the members.
 */
public final class LabellerTrainer {
    /**
     * @param ensemble members, >= 1
     * @param hidden hidden layer widths
     * @param maxEpochs passes over the annotated pixels, >= 1
     * @param patience mini-batches without a new best smoothed loss before a member stops (checked
     *     after its first epoch)
     * @param batch pixels per mini-batch
     * @param learningRate Adam's step size
     * @param threads members trained at once
     */
    public record Settings(
            int ensemble,
            int[] hidden,
            int maxEpochs,
            int patience,
            long seed,
            int batch,
            float learningRate,
            int threads) {}

    /** Called after each epoch of each member (from the training threads, serialised). */
    public interface Progress {
        void epoch(int member, int epoch, double meanLoss);
    }

    /**
     * Smoothed training loss (nats) below which a member stops, from its second epoch on, as it does
     * after patience mini-batches without a new best: its labels already match the annotations'
     * (a mean probability of about 0.999 on the annotated class).
     */
    public static final double SETTLED_LOSS = 1e-3;

    private LabellerTrainer() {}

    /**
     * @param labels class id of every pixel, [images, height, width]
     * @param cancelled polled between mini-batches
     */
    public static Ensemble train(
            FeatureMaps maps,
            byte[] labels,
            int classes,
            Settings settings,
            Progress progress,
            BooleanSupplier cancelled) {
        float[][] moments = maps.moments();
        int[] sizes = new int[settings.hidden().length + 2];
        sizes[0] = maps.dimension();
        System.arraycopy(settings.hidden(), 0, sizes, 1, settings.hidden().length);
        sizes[sizes.length - 1] = classes;
        ExecutorService pool =
                Executors.newFixedThreadPool(Math.max(1, Math.min(settings.threads(), settings.ensemble())));
        try {
            List<Future<PixelMlp>> futures = new ArrayList<>();
            for (int m = 0; m < settings.ensemble(); m++) {
                int member = m;
                futures.add(pool.submit(
                        () -> trainMember(member, sizes, maps, moments, labels, settings, progress, cancelled)));
            }
            List<PixelMlp> members = new ArrayList<>();
            for (Future<PixelMlp> f : futures) {
                members.add(f.get());
            }
            return new Ensemble(members, moments[0], moments[1]);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CancelledException("labeller training was interrupted");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    private static PixelMlp trainMember(
            int member,
            int[] sizes,
            FeatureMaps maps,
            float[][] moments,
            byte[] labels,
            Settings settings,
            Progress progress,
            BooleanSupplier cancelled) {
        PixelMlp net = new PixelMlp(sizes, RandomStream.of(settings.seed(), 2L * member));
        RandomStream order = RandomStream.of(settings.seed(), 2L * member + 1);
        int plane = maps.height() * maps.width();
        int[] perm = annotatedPixels(labels);
        int pixels = perm.length;
        int d = maps.dimension();
        float[] mean = moments[0];
        float[] inv = new float[d];
        for (int k = 0; k < d; k++) {
            inv[k] = 1f / moments[1][k];
        }
        int batch = settings.batch();
        byte[] y = new byte[batch];
        double best = Double.POSITIVE_INFINITY;
        double smoothed = Double.NaN;
        long sinceBest = 0;
        for (int epoch = 0; epoch < settings.maxEpochs(); epoch++) {
            shuffle(perm, order);
            double sum = 0;
            int steps = 0;
            boolean stop = false;
            // A last batch of one pixel would break BatchNorm's statistics: drop the remainder.
            for (int start = 0; start + batch <= pixels; start += batch) {
                if (cancelled.getAsBoolean()) {
                    throw new CancelledException("labeller training was cancelled");
                }
                float[] x = net.input(batch);
                for (int r = 0; r < batch; r++) {
                    int p = perm[start + r];
                    int image = p / plane;
                    int within = p % plane;
                    maps.pixel(image, within / maps.width(), within % maps.width(), x, r * d);
                    for (int k = 0, o = r * d; k < d; k++, o++) {
                        x[o] = (x[o] - mean[k]) * inv[k];
                    }
                    y[r] = labels[p];
                }
                double loss = net.step(batch, y, settings.learningRate());
                sum += loss;
                steps++;
                smoothed = Double.isNaN(smoothed) ? loss : 0.95 * smoothed + 0.05 * loss;
                if (smoothed < best) {
                    best = smoothed;
                    sinceBest = 0;
                } else {
                    sinceBest++;
                }
                // A loss creeping towards zero sets a new best at nearly every step, so patience alone
                // would keep a member that already reproduces its labels training for many epochs.
                if (epoch >= 1 && (sinceBest > settings.patience() || smoothed < SETTLED_LOSS)) {
                    stop = true;
                    break;
                }
            }
            synchronized (progress) {
                progress.epoch(member, epoch, steps == 0 ? Double.NaN : sum / steps);
            }
            if (stop) {
                break;
            }
        }
        return net;
    }

    /** Indices of the pixels with a class, in order (all of them when no pixel is left unannotated). */
    static int[] annotatedPixels(byte[] labels) {
        int[] out = new int[annotatedCount(labels)];
        for (int p = 0, j = 0; p < labels.length; p++) {
            if ((labels[p] & 0xff) != Labelling.IGNORED) {
                out[j++] = p;
            }
        }
        return out;
    }

    /** Pixels with a class. */
    static int annotatedCount(byte[] labels) {
        int n = 0;
        for (byte label : labels) {
            n += (label & 0xff) == Labelling.IGNORED ? 0 : 1;
        }
        return n;
    }

    private static void shuffle(int[] a, RandomStream r) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = (int) (r.nextDouble() * (i + 1));
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
}

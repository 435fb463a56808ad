package dev.genaug.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.genaug.domain.error.InvalidArgumentException;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import dev.genaug.domain.sampling.Judge;
import dev.genaug.domain.sampling.LatentOperator;
import dev.genaug.domain.sampling.Magnet;
import dev.genaug.domain.sampling.PriorSampler;
import dev.genaug.inference.OnnxBackend;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code genaug sample}: draws latents with an operator, decodes them and reports what the
 * reference classifier sees in them (the category mix), in this process with ONNX Runtime.
 */
@Command(
        name = "sample",
        mixinStandardHelpOptions = true,
        description = "Sample a generator (prior or MaGNET) and report the classifier's category mix of the samples.")
final class SampleCommand implements Callable<Integer> {
    enum Op {
        prior,
        magnet
    }

    @Option(names = "--op", defaultValue = "prior", description = "prior or magnet (default ${DEFAULT-VALUE}).")
    Op op;

    @Option(names = "--count", defaultValue = "10000", description = "Samples (default ${DEFAULT-VALUE}).")
    int count;

    @Option(names = "--seed", defaultValue = "0", description = "Seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(
            names = "--pool",
            defaultValue = "4096",
            description = "MaGNET: prior latents weighed by their volume (default ${DEFAULT-VALUE}).")
    int pool;

    @Option(
            names = "--top-k",
            defaultValue = "8",
            description = "MaGNET: singular values in the volume; 0 means the latent dimension, the full volume, whose"
                    + " weights can rest on a handful of latents (default ${DEFAULT-VALUE}).")
    int topK;

    @Option(
            names = "--epsilon",
            defaultValue = "0.01",
            description = "MaGNET: finite-difference step in latent units (default ${DEFAULT-VALUE}).")
    float epsilon;

    @Option(
            names = "--manifold",
            defaultValue = "",
            description = "MaGNET: the generator output whose volume is measured; empty: the image, else a feature"
                    + " output such as feat_8.")
    String manifold;

    @Option(names = "--model", defaultValue = "shapes-generator", description = "Generator (default ${DEFAULT-VALUE}).")
    String generatorName;

    @Option(
            names = "--classifier",
            defaultValue = "shapes-classifier",
            description = "Judge of the samples (default ${DEFAULT-VALUE}).")
    String classifierName;

    @Option(names = "--threads", defaultValue = "2", description = "ONNX Runtime threads (default ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--json", description = "Also write the figures to this file.")
    Path json;

    @Option(
            names = {"--models", "--repository"},
            description = "Model repository (default: deploy/model-repository of this checkout).")
    Path repositoryRoot;

    @Override
    public Integer call() throws Exception {
        if (count < 1) {
            throw new InvalidArgumentException("--count", "must be >= 1, got " + count);
        }
        ModelRepository repository = ModelRepository.open(LocalStack.models(repositoryRoot));
        ResolvedModel generator = repository.resolve(generatorName, "", "--model");
        ResolvedModel classifier = repository.resolve(classifierName, "", "--classifier");
        int d = generator.manifest().getLatent().getDimension();
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("op", op.name());
        result.put("model", generator.name());
        result.put("count", count);
        result.put("seed", seed);
        long started = System.nanoTime();
        try (OnnxBackend onnx = new OnnxBackend(new OnnxBackend.Settings(threads, false))) {
            Judge judge = new Judge(onnx, generator, classifier);
            LatentOperator operator;
            if (op == Op.magnet) {
                Magnet magnet =
                        Magnet.build(onnx, generator, seed, pool, topK == 0 ? d : topK, epsilon, manifold, 8, "--");
                operator = magnet;
                result.put("pool_size", pool);
                result.put("top_k", topK == 0 ? d : topK);
                result.put("manifold", magnet.parameters().get("manifold"));
                result.put("effective_pool_size", magnet.effectivePoolSize());
                result.put("weighing_seconds", LocalStack.seconds(started));
                // What the prior gives (the pool itself, judged the same way), and where the weights go.
                result.putAll(poolByCategory(judge, magnet));
            } else {
                operator = PriorSampler.create(d, 1f, 0f, "");
            }
            result.putAll(mix(judge, operator, seed, count));
        }
        result.put("seconds", LocalStack.seconds(started));
        @SuppressWarnings("unchecked")
        Map<String, Double> mix = (Map<String, Double>) result.get("category_mix");
        System.out.printf("%s, %d samples, seed %d: category mix (classifier's call)%n", op, count, seed);
        mix.forEach((c, share) -> System.out.printf("  %-10s %6.1f%%%n", c, share * 100));
        System.out.printf(
                "  largest/smallest %.2f, confident (p >= 0.9) %.1f%%%n",
                (double) result.get("largest_smallest_ratio"), (double) result.get("confident_share") * 100);
        if (op == Op.magnet) {
            System.out.printf(
                    "  pool of %d prior latents, effective size %.0f; by the pool's category:%n",
                    pool, (double) result.get("effective_pool_size"));
            @SuppressWarnings("unchecked")
            Map<String, Map<String, Double>> byCategory =
                    (Map<String, Map<String, Double>>) result.get("pool_by_category");
            byCategory.forEach((c, f) -> System.out.printf(
                    "  %-10s pool %5.1f%%, weight %5.1f%%, log volume %.2f (sd %.2f)%n",
                    c,
                    f.get("pool_share") * 100,
                    f.get("weight_share") * 100,
                    f.get("mean_log_volume"),
                    f.get("sd_log_volume")));
            double effective = (double) result.get("effective_pool_size");
            if (effective < 0.1 * Math.min(pool, count)) {
                // The full volume (k = d) ends here on the reference model: 2 latents of 4,096.
                System.out.printf(
                        "  warning: the weights rest on about %.0f of the %d pool latents, so the samples repeat"
                                + " them; a smaller --top-k (8 on the reference model) spreads them%n",
                        effective, pool);
            }
        }
        if (json != null) {
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), result);
            System.out.println("figures written to " + json);
        }
        return 0;
    }

    /**
     * The pool by the category the classifier gives each pool latent: its share of the pool (what
     * the prior draws), its share of MaGNET's weights (what resampling will draw, up to sampling
     * noise) and the mean and spread of its latents' log volumes. MaGNET moves a category's share
     * only as far as its volumes differ from the others'; a spread within categories much larger
     * than the differences between them means the weights pick latents, not categories.
     */
    static Map<String, Object> poolByCategory(Judge judge, Magnet magnet) {
        int n = magnet.poolSize();
        int[] classes = judge.classes(magnet.poolLatents(), n);
        double[] logVolumes = magnet.logVolumes();
        double max = Arrays.stream(logVolumes).max().orElse(0);
        List<String> names = judge.classNames();
        int k = names.size();
        int[] counts = new int[k];
        double[] weights = new double[k];
        double[] sums = new double[k];
        double[] squares = new double[k];
        double total = 0;
        for (int p = 0; p < n; p++) {
            double w = Math.exp(logVolumes[p] - max);
            int c = classes[p];
            counts[c]++;
            weights[c] += w;
            sums[c] += logVolumes[p];
            squares[c] += logVolumes[p] * logVolumes[p];
            total += w;
        }
        Map<String, Double> poolMix = new LinkedHashMap<>();
        Map<String, Map<String, Double>> byCategory = new LinkedHashMap<>();
        for (int c = 0; c < k; c++) {
            poolMix.put(names.get(c), counts[c] / (double) n);
            Map<String, Double> f = new LinkedHashMap<>();
            f.put("pool_share", counts[c] / (double) n);
            f.put("weight_share", weights[c] / total);
            // A category no pool latent falls in has no log volumes: null mean and spread.
            Double mean = counts[c] == 0 ? null : sums[c] / counts[c];
            f.put("mean_log_volume", mean);
            f.put("sd_log_volume", mean == null ? null : Math.sqrt(Math.max(0, squares[c] / counts[c] - mean * mean)));
            byCategory.put(names.get(c), f);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("pool_category_mix", poolMix);
        out.put("pool_by_category", byCategory);
        return out;
    }

    /** Decodes the operator's samples 0..n-1, classifies them and reports the category mix. */
    static Map<String, Object> mix(Judge judge, LatentOperator operator, long seed, int n) {
        List<String> classes = judge.classNames();
        int k = classes.size();
        int[] counts = new int[k];
        int confident = 0;
        for (int start = 0; start < n; start += 1024) {
            int rows = Math.min(1024, n - start);
            float[] p = judge.probabilities(operator.points(seed, start, rows), rows);
            for (int i = 0; i < rows; i++) {
                int best = Judge.argmax(p, i, k);
                counts[best]++;
                if (p[i * k + best] >= 0.9f) {
                    confident++;
                }
            }
        }
        Map<String, Double> mix = new LinkedHashMap<>();
        int largest = 0;
        int smallest = Integer.MAX_VALUE;
        for (int c = 0; c < classes.size(); c++) {
            mix.put(classes.get(c), counts[c] / (double) n);
            largest = Math.max(largest, counts[c]);
            smallest = Math.min(smallest, counts[c]);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("category_mix", mix);
        out.put("largest_smallest_ratio", smallest == 0 ? Double.POSITIVE_INFINITY : largest / (double) smallest);
        out.put("confident_share", confident / (double) n);
        return out;
    }
}

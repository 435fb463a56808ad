package dev.genaug.cli;

import dev.genaug.api.common.v1.Latent;
import dev.genaug.api.model.v1.ClassRadius;
import dev.genaug.api.model.v1.RadiusCalibration;
import dev.genaug.api.sampler.v1.Direction;
import dev.genaug.api.sampler.v1.DirectionMethod;
import dev.genaug.api.sampler.v1.FitDirectionsRequest;
import dev.genaug.api.sampler.v1.FitDirectionsResponse;
import dev.genaug.api.sampler.v1.InterpolationMethod;
import dev.genaug.api.sampler.v1.NeighbourhoodShape;
import dev.genaug.domain.dataset.PreviewGrid;
import dev.genaug.domain.dataset.ShapesParts;
import dev.genaug.domain.generation.GeneratedOutputs;
import dev.genaug.domain.inference.FloatTensor;
import dev.genaug.domain.repository.ModelChecks;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import dev.genaug.domain.sampling.Calibrations;
import dev.genaug.domain.sampling.Directions;
import dev.genaug.domain.sampling.Interpolation;
import dev.genaug.domain.sampling.Judge;
import dev.genaug.domain.sampling.LatentOperator;
import dev.genaug.domain.sampling.Magnet;
import dev.genaug.domain.sampling.Neighbours;
import dev.genaug.domain.sampling.PriorSampler;
import dev.genaug.domain.sampling.Walk;
import dev.genaug.inference.OnnxBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code genaug pictures}: the pictures of the latent-space documentation, made from the reference
 * model in this process (ONNX Runtime): neighbours at three sigmas, interpolations, walks along
 * the top PCA directions of encoded renders, attribute edits (houses walked toward cars and trees),
 * MaGNET samples beside prior samples and views at each class's calibrated radius.
 */
@Command(
        name = "pictures",
        mixinStandardHelpOptions = true,
        description = "Make the pictures of docs/latent-space.md from the reference model.")
final class PicturesCommand implements Callable<Integer> {
    private static final int D = 32;
    // Category ids of the shapes-parts renders.
    private static final int HOUSE = 0;
    private static final int TREE = 1;
    private static final int CAR = 2;
    // How far attribute edits walk, in gaps between the categories' mean projections: one gap leaves
    // most houses houses (the categories differ along other directions too), three go off the data.
    private static final double EDIT_GAPS = 2.5;

    @Option(names = "--out", defaultValue = "docs/pictures", description = "Folder (default ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--threads", defaultValue = "2", description = "ONNX Runtime threads (default ${DEFAULT-VALUE}).")
    int threads;

    private OnnxBackend onnx;
    private ModelRepository repository;
    private ResolvedModel encoder;
    private ResolvedModel generator;
    /** Categories of the encoded training renders the directions are fitted on. */
    private int[] trainingCategories;

    @Override
    public Integer call() throws Exception {
        Path root = LocalStack.root();
        Path folder = Files.createDirectories(out.isAbsolute() ? out : root.resolve(out));
        repository = ModelRepository.open(root.resolve("deploy/model-repository"));
        generator = repository.resolve("shapes-generator", "", "generator");
        encoder = ModelChecks.requireEncoderOf(repository, generator, "encoder", "");
        try (OnnxBackend backend = new OnnxBackend(new OnnxBackend.Settings(threads, false))) {
            onnx = backend;
            int inputs = 6;
            float[] anchors = encode(2, 0, inputs);

            // Neighbours at three sigmas: per row, the input's reconstruction then 7 views.
            for (float sigma : new float[] {0.25f, 1f, 2f}) {
                float[] rows = new float[inputs * 8 * D];
                for (int i = 0; i < inputs; i++) {
                    float[] anchor = Arrays.copyOfRange(anchors, i * D, (i + 1) * D);
                    System.arraycopy(anchor, 0, rows, i * 8 * D, D);
                    float[] views = Neighbours.create(
                                    anchor, NeighbourhoodShape.NEIGHBOURHOOD_SHAPE_GAUSSIAN, sigma, 0f, "")
                            .points(1, (long) i * 7, 7);
                    System.arraycopy(views, 0, rows, (i * 8 + 1) * D, 7 * D);
                }
                write(folder, "neighbours-sigma-" + sigma + ".png", rows, 8);
            }

            // Slerp between pairs of encoded renders, 8 steps.
            float[] paths = new float[3 * 8 * D];
            for (int p = 0; p < 3; p++) {
                float[] a = Arrays.copyOfRange(anchors, (2 * p) * D, (2 * p + 1) * D);
                float[] b = Arrays.copyOfRange(anchors, (2 * p + 1) * D, (2 * p + 2) * D);
                float[] path = Interpolation.create(a, b, 8, InterpolationMethod.INTERPOLATION_METHOD_SLERP, "")
                        .points(0, 0, 8);
                System.arraycopy(path, 0, paths, p * 8 * D, 8 * D);
            }
            write(folder, "interpolation.png", paths, 8);

            // Walks along the top three principal directions of 2,000 encoded renders, from their
            // mean, alpha from -2.5 to +2.5 standard deviations of each direction.
            int n = 2000;
            List<ShapesParts.Sample> training = renders(1, 0, n);
            float[] encoded = encode(training);
            trainingCategories =
                    training.stream().mapToInt(ShapesParts.Sample::category).toArray();
            FitDirectionsRequest.Builder fit = FitDirectionsRequest.newBuilder().setComponents(3);
            for (int i = 0; i < n; i++) {
                Latent.Builder z = Latent.newBuilder();
                for (int j = 0; j < D; j++) {
                    z.addValues(encoded[i * D + j]);
                }
                fit.addLatents(z);
            }
            FitDirectionsResponse pca = Directions.fit(fit.build(), D, n);
            float[] mean = new float[D];
            for (int j = 0; j < D; j++) {
                mean[j] = pca.getMean().getValues(j);
            }
            float[] walks = new float[3 * 8 * D];
            StringBuilder variance = new StringBuilder();
            for (int c = 0; c < 3; c++) {
                Direction dir = pca.getDirections(c);
                double sd = spread(encoded, n, mean, dir);
                float[] walk = Walk.create(mean, List.of(dir), (float) (-2.5 * sd), (float) (2.5 * sd), 8, "")
                        .points(0, 0, 8);
                System.arraycopy(walk, 0, walks, c * 8 * D, 8 * D);
                variance.append(String.format(
                        "  direction %d: %.1f%% of the variance, sd %.2f%n",
                        c + 1, pca.getExplainedVarianceRatio(c) * 100, sd));
            }
            write(folder, "pca-walks.png", walks, 8);

            variance.append(attributeEdits(folder, fit.getLatentsList(), encoded, n));

            // MaGNET samples (top row pair) beside prior samples (bottom pair), 16 each; the volume on
            // feat_8 where the generator has it (the space docs/latent-space.md measures it on).
            float[] both = new float[32 * D];
            System.arraycopy(PriorSampler.create(D, 1f, 0f, "").sample(4, 0, 16), 0, both, 16 * D, 16 * D);
            String manifold = generator.manifest().getFeaturesList().stream()
                            .anyMatch(f -> f.getName().equals("feat_8"))
                    ? "feat_8"
                    : "";
            LatentOperator magnet = Magnet.build(onnx, generator, 4, 2048, 8, 0.01f, manifold, 8, "");
            System.arraycopy(magnet.points(4, 0, 16), 0, both, 0, 16 * D);
            write(folder, "magnet-vs-prior.png", both, 8);

            // Views at each class's calibrated radius (calibration.json), when there is one: per class,
            // two anchors (held-out renders of that class), each followed by 7 views.
            if (Files.isRegularFile(Calibrations.file(generator))) {
                RadiusCalibration calibration = Calibrations.read(generator);
                ResolvedModel classifier = repository.resolve(calibration.getClassifier(), "", "classifier");
                Judge judge = new Judge(onnx, generator, classifier);
                List<float[]> rows = new ArrayList<>();
                for (ClassRadius c : calibration.getClassesList()) {
                    int taken = 0;
                    for (int i = 0; i < 400 && taken < 2; i++) {
                        ShapesParts.Sample render = ShapesParts.render(2, i);
                        if (render.category() != c.getId()) {
                            continue;
                        }
                        float[] anchor = encode(List.of(render));
                        if (judge.classes(anchor, 1)[0] != c.getId()) {
                            continue;
                        }
                        float[] row = new float[8 * D];
                        System.arraycopy(anchor, 0, row, 0, D);
                        float[] views = Neighbours.create(
                                        anchor,
                                        NeighbourhoodShape.NEIGHBOURHOOD_SHAPE_GAUSSIAN,
                                        (float) c.getSigma(),
                                        0f,
                                        "")
                                .points(3, 0, 7);
                        System.arraycopy(views, 0, row, D, 7 * D);
                        rows.add(row);
                        taken++;
                    }
                }
                float[] all = new float[rows.size() * 8 * D];
                for (int r = 0; r < rows.size(); r++) {
                    System.arraycopy(rows.get(r), 0, all, r * 8 * D, 8 * D);
                }
                if (!rows.isEmpty()) {
                    write(folder, "calibrated-radius.png", all, 8);
                }
            }

            System.out.printf("pictures written to %s%n%s", folder, variance);
        }
        return 0;
    }

    /**
     * Attribute edits: the logistic-regression direction of "car" and of "tree", fitted on the
     * encoded training renders labelled with their category; held-out houses walked along each,
     * from the house itself (alpha 0) to EDIT_GAPS times the gap between the mean projections of
     * houses and of the target category. The picture shows three walks per direction; the
     * classifier judges where all of them end. Returns the figures, one line per direction.
     */
    private String attributeEdits(Path folder, List<Latent> latents, float[] encoded, int n) throws Exception {
        Judge judge = new Judge(onnx, generator, repository.resolve("shapes-classifier", "", "classifier"));
        int walked = 48;
        List<ShapesParts.Sample> houses = new ArrayList<>();
        for (int i = 0; houses.size() < walked; i++) {
            ShapesParts.Sample s = ShapesParts.render(2, i);
            if (s.category() == HOUSE) {
                houses.add(s);
            }
        }
        float[] origins = encode(houses);
        float[] edits = new float[6 * 8 * D];
        StringBuilder figures = new StringBuilder();
        int[] targets = {CAR, TREE};
        for (int t = 0; t < targets.length; t++) {
            FitDirectionsRequest.Builder attribute = FitDirectionsRequest.newBuilder()
                    .setMethod(DirectionMethod.DIRECTION_METHOD_ATTRIBUTE)
                    .addAllLatents(latents);
            for (int i = 0; i < n; i++) {
                attribute.addLabels(trainingCategories[i] == targets[t]);
            }
            FitDirectionsResponse fitted = Directions.fit(attribute.build(), D, n);
            Direction dir = fitted.getDirections(0);
            double gap = meanProjection(encoded, targets[t], dir) - meanProjection(encoded, HOUSE, dir);
            float[] ends = new float[walked * D];
            for (int h = 0; h < walked; h++) {
                float[] walk = Walk.create(
                                Arrays.copyOfRange(origins, h * D, (h + 1) * D),
                                List.of(dir),
                                0f,
                                (float) (EDIT_GAPS * gap),
                                8,
                                "")
                        .points(0, 0, 8);
                if (h < 3) {
                    System.arraycopy(walk, 0, edits, (t * 3 + h) * 8 * D, 8 * D);
                }
                System.arraycopy(walk, 7 * D, ends, h * D, D);
            }
            int arrived = 0;
            for (int c : judge.classes(ends, walked)) {
                arrived += c == targets[t] ? 1 : 0;
            }
            String name = targets[t] == CAR ? "car" : "tree";
            figures.append(String.format(
                    "  attribute %s: training accuracy %.1f%%, house-to-%s gap %.2f; %d of %d held-out houses"
                            + " walked %.1f gaps are judged %s%n",
                    name, fitted.getTrainingAccuracy() * 100, name, gap, arrived, walked, EDIT_GAPS, name));
        }
        write(folder, "attribute-edits.png", edits, 8);
        return figures.toString();
    }

    /** Mean projection on a direction of the encoded training renders of one category. */
    private double meanProjection(float[] z, int wanted, Direction dir) {
        double sum = 0;
        int count = 0;
        for (int i = 0; i < trainingCategories.length; i++) {
            if (trainingCategories[i] == wanted) {
                sum += projection(z, i, dir);
                count++;
            }
        }
        return sum / count;
    }

    /** Projection of latent row {@code i} on a direction. */
    private static double projection(float[] z, int i, Direction dir) {
        double p = 0;
        for (int j = 0; j < D; j++) {
            p += z[i * D + j] * dir.getValues(j);
        }
        return p;
    }

    /** Standard deviation of the latents' projections on a direction. */
    private static double spread(float[] z, int n, float[] mean, Direction dir) {
        double centre = projection(mean, 0, dir);
        double sum = 0;
        double sumSq = 0;
        for (int i = 0; i < n; i++) {
            double p = projection(z, i, dir) - centre;
            sum += p;
            sumSq += p * p;
        }
        double m = sum / n;
        return Math.sqrt(Math.max(0, sumSq / n - m * m));
    }

    /** Renders (seed, start .. start + count - 1). */
    private static List<ShapesParts.Sample> renders(long seed, int start, int count) {
        List<ShapesParts.Sample> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(ShapesParts.render(seed, start + i));
        }
        return out;
    }

    /** Posterior means of renders (seed, start .. start + count - 1). */
    private float[] encode(long seed, int start, int count) {
        return encode(renders(seed, start, count));
    }

    /** Posterior means of renders. */
    private float[] encode(List<ShapesParts.Sample> samples) {
        return RenderEncoding.encode(
                onnx, encoder, samples.stream().map(ShapesParts.Sample::rgb).toList());
    }

    private void write(Path folder, String name, float[] latents, int columns) throws Exception {
        int rows = latents.length / D;
        String z = generator.manifest().getTensorsOrDefault("latent", "z");
        String image = generator.manifest().getTensorsOrDefault("image", "image");
        FloatTensor images = onnx.infer(
                        generator, Map.of(z, new FloatTensor(new long[] {rows, D}, latents)), List.of(image))
                .get(image);
        Files.write(
                folder.resolve(name),
                PreviewGrid.of(
                        GeneratedOutputs.pngs(images, generator.manifest().getImage()), columns));
    }
}

package dev.genaug.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.genaug.domain.dataset.MaskOverlay;
import dev.genaug.domain.dataset.PreviewGrid;
import dev.genaug.domain.dataset.ShapesParts;
import dev.genaug.domain.error.InvalidArgumentException;
import dev.genaug.domain.inference.FloatTensor;
import dev.genaug.domain.labelling.ConfidenceScore;
import dev.genaug.domain.labelling.Ensemble;
import dev.genaug.domain.labelling.FeatureMaps;
import dev.genaug.domain.labelling.FeatureSource;
import dev.genaug.domain.labelling.FilterScore;
import dev.genaug.domain.labelling.LabellerOnnx;
import dev.genaug.domain.labelling.LabellerTrainer;
import dev.genaug.domain.labelling.Labelling;
import dev.genaug.domain.labelling.ScratchLabeller;
import dev.genaug.domain.labelling.SegmentationScore;
import dev.genaug.domain.repository.ModelChecks;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import dev.genaug.domain.tensor.ImageCodec;
import dev.genaug.inference.OnnxBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code genaug labeller eval}: mIoU of labellers trained on N annotated renders, measured on
 * held-out renders against their ground-truth masks, with two baselines: the same ensemble on the
 * decoded image's RGB plus pixel coordinates, and the labeller trained on many annotations. The
 * held-out renders the uncertainty filter would drop are also scored apart from the kept ones, and
 * each labeller's confusions are counted (pixels of each true class by predicted class).
 */
@Command(
        name = "eval",
        mixinStandardHelpOptions = true,
        description = "mIoU of the labeller for N annotations against ground truth, with baselines, and of the"
                + " held-out renders its uncertainty filter drops and keeps.")
final class LabellerEvalCommand implements Callable<Integer> {
    @Option(
            names = "--annotations",
            split = ",",
            defaultValue = "16",
            description = "Annotated renders to train on; a list runs each (default ${DEFAULT-VALUE}).")
    List<Integer> annotations;

    @Option(
            names = "--reference-annotations",
            defaultValue = "256",
            description = "Annotations of the many-annotation baseline (default ${DEFAULT-VALUE}).")
    int reference;

    @Option(names = "--held-out", defaultValue = "500", description = "Held-out renders (default ${DEFAULT-VALUE}).")
    int heldOut;

    @Option(names = "--ensemble", defaultValue = "10", description = "Members (default ${DEFAULT-VALUE}).")
    int ensemble;

    @Option(
            names = "--hidden",
            split = ",",
            description = "Hidden layer widths of each member (default: the training default, 32,16 for these"
                    + " 11 classes).")
    List<Integer> hidden = List.of();

    @Option(names = "--max-epochs", defaultValue = "100", description = "Epoch cap (default ${DEFAULT-VALUE}).")
    int maxEpochs;

    @Option(names = "--patience", defaultValue = "50", description = "Early-stop patience in mini-batches.")
    int patience;

    @Option(
            names = "--prior-correction",
            defaultValue = "" + Labelling.DEFAULT_CLASS_PRIOR_CORRECTION,
            description = "Class-prior correction tau of every labeller and baseline, as training applies it;"
                    + " 0 turns it off (default ${DEFAULT-VALUE}, the training default).")
    double priorCorrection;

    @Option(names = "--seed", defaultValue = "0", description = "Training seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--threads", defaultValue = "0", description = "Training threads; 0 means one per core.")
    int threads;

    @Option(
            names = "--balanced",
            negatable = true,
            defaultValue = "true",
            fallbackValue = "true",
            description = "Annotate renders taken in turn from each category (default ${DEFAULT-VALUE});"
                    + " --no-balanced takes the first renders, with the dataset's 60/30/10 skew.")
    boolean balanced;

    private static long[] first(int n) {
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            out[i] = i;
        }
        return out;
    }

    @Option(
            names = "--refine",
            defaultValue = "0",
            description = "Generator evaluations per render refining its encoding (CMA-ES), for the annotated and"
                    + " the held-out renders alike; 0: the posterior mean (default ${DEFAULT-VALUE}).")
    int refine;

    @Option(names = "--skip-reference", description = "Do not train the many-annotation baseline.")
    boolean skipReference;

    @Option(names = "--flip", description = "Also train on each annotated render mirrored left to right.")
    boolean flip;

    /** Pictures shown by --picture. */
    private static final int SHOWN = 8;

    /**
     * @param firstLabels labels of the first {@link #SHOWN} test pictures
     * @param filter what dropping the most uncertain test pictures leaves, as a line
     * @param confidence how right the confident pixels are, as a line
     */
    private record Result(double miou, float[] firstLabels, String filter, String confidence, String confusion) {}

    /** Rows of four: render, reconstruction, true mask over the render, labels over the reconstruction. */
    private static byte[] picture(Renders test, float[] labels) {
        List<byte[]> cells = new ArrayList<>();
        FeatureMaps.Level image = test.maps.levels().get(0);
        for (int i = 0; i < Math.min(SHOWN, test.maps.images()); i++) {
            byte[] render = ImageCodec.encodePng(
                    java.util.Arrays.copyOfRange(test.rgb, i * 3 * 4096, (i + 1) * 3 * 4096), 3, 64, 64);
            byte[] decoded = ImageCodec.encodePng(
                    ImageCodec.toUint8(
                            java.util.Arrays.copyOfRange(image.data(), i * 3 * 4096, (i + 1) * 3 * 4096), -1f, 1f),
                    3,
                    64,
                    64);
            byte[] predicted = new byte[4096];
            for (int p = 0; p < 4096; p++) {
                predicted[p] = (byte) (int) labels[i * 4096 + p];
            }
            cells.add(render);
            cells.add(decoded);
            cells.add(MaskOverlay.of(
                    render,
                    ImageCodec.encodePng(
                            java.util.Arrays.copyOfRange(test.masks, i * 4096, (i + 1) * 4096), 1, 64, 64)));
            cells.add(MaskOverlay.of(decoded, ImageCodec.encodePng(predicted, 1, 64, 64)));
        }
        return PreviewGrid.of(cells, 4);
    }

    private final Path scratchRoot = Path.of(System.getProperty("java.io.tmpdir"));

    @Option(
            names = "--picture",
            description = "Write a PNG of the first 8 held-out renders for the first N: render, reconstruction,"
                    + " true mask over the render, labels over the reconstruction.")
    Path picture;

    @Option(
            names = "--int8",
            description = "Also label with the 8-bit integer export of each labeller (int8_miou, int8_label_agreement,"
                    + " int8_mean_confidence_error against the float export, int8_export_s).")
    boolean int8;

    @Option(
            names = "--drop-fraction",
            defaultValue = "" + Labelling.DEFAULT_DROP_FRACTION,
            description = "Share of the held-out renders the filter figures drop, the most uncertain ones"
                    + " (default ${DEFAULT-VALUE}, a labelled job's).")
    float dropFraction;

    @Option(names = "--json", description = "Write the figures to this file.")
    Path json;

    /** Labels and confidences of the test pictures' pixels, and each picture's uncertainty. */
    private record Labelled(float[] labels, float[] confidence, float[] uncertainty) {}

    /** Refuses bad options before minutes of encoding and training. */
    private void check() {
        for (int n : annotations) {
            if (n < 1 || n > Labelling.MAX_ANNOTATIONS) {
                throw new InvalidArgumentException(
                        "--annotations", "each must be in [1, " + Labelling.MAX_ANNOTATIONS + "], got " + n);
            }
        }
        if (!skipReference && (reference < 1 || reference > Labelling.MAX_ANNOTATIONS)) {
            throw new InvalidArgumentException(
                    "--reference-annotations", "must be in [1, " + Labelling.MAX_ANNOTATIONS + "], got " + reference);
        }
        if (heldOut < 1) {
            throw new InvalidArgumentException("--held-out", "must be >= 1, got " + heldOut);
        }
        if (ensemble < 1 || ensemble > Labelling.MAX_ENSEMBLE) {
            throw new InvalidArgumentException(
                    "--ensemble", "must be in [1, " + Labelling.MAX_ENSEMBLE + "], got " + ensemble);
        }
        for (int width : hidden) {
            if (width < 1 || width > Labelling.MAX_HIDDEN) {
                throw new InvalidArgumentException(
                        "--hidden", "each width must be in [1, " + Labelling.MAX_HIDDEN + "], got " + width);
            }
        }
        if (maxEpochs < 1 || patience < 1) {
            throw new InvalidArgumentException(
                    "--max-epochs and --patience", "must be >= 1, got " + maxEpochs + " and " + patience);
        }
        if (refine < 0 || refine > Labelling.MAX_REFINE_EVALUATIONS) {
            throw new InvalidArgumentException(
                    "--refine", "must be in [0, " + Labelling.MAX_REFINE_EVALUATIONS + "], got " + refine);
        }
        FilterReport.checkDropFraction(dropFraction);
        // Not capped above: this is the measuring tool, and tau sweeps go past the service's cap.
        if (!(priorCorrection >= 0) || Double.isInfinite(priorCorrection)) {
            throw new InvalidArgumentException(
                    "--prior-correction", "must be a finite value >= 0, got " + priorCorrection);
        }
    }

    @Override
    public Integer call() throws Exception {
        check();
        if (hidden.isEmpty()) { // the widths a training that names none gets
            hidden = java.util.Arrays.stream(Labelling.defaultHidden(ShapesParts.CLASSES.size()))
                    .boxed()
                    .toList();
        }
        ModelRepository repository = ModelRepository.open(LocalStack.models(null));
        ResolvedModel generator = repository.resolve("shapes-generator", "", "generator");
        ResolvedModel encoder = ModelChecks.requireEncoderOf(repository, generator, "encoder", "");
        int classes = ShapesParts.CLASSES.size();
        int cores = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        Map<String, Object> out = new LinkedHashMap<>();
        try (OnnxBackend onnx = new OnnxBackend(new OnnxBackend.Settings(cores, false, false))) {
            List<LabellerOnnx.Input> inputs = FeatureSource.inputs(generator.manifest());
            int max = annotations.stream().mapToInt(Integer::intValue).max().orElse(0);
            if (!skipReference) {
                max = Math.max(max, reference);
            }
            long[] indices = balanced ? ShapesParts.balancedIndices(1, max) : first(max);
            Renders train = Renders.encode(onnx, encoder, generator, inputs, 1, indices, false, refine);
            Renders test = Renders.encode(onnx, encoder, generator, inputs, 2, first(heldOut), false, refine);
            Renders mirrored = flip ? Renders.encode(onnx, encoder, generator, inputs, 1, indices, true, refine) : null;
            Map<String, Object> perN = new LinkedHashMap<>();
            for (int n : annotations) {
                Map<String, Object> row = new LinkedHashMap<>();
                Renders annotated = annotated(train, mirrored, n);
                Result result = evaluate(onnx, annotated, test, inputs, classes, cores, row, "");
                row.put("miou", result.miou());
                if (picture != null && n == annotations.get(0)) {
                    Files.write(picture, picture(test, result.firstLabels()));
                    System.out.println("picture written to " + picture);
                }
                // The baseline learns from the same annotated pictures, mirrored ones included.
                Renders trainRgb = annotated.rgbAndCoordinates();
                Renders testRgb = test.rgbAndCoordinates();
                row.put(
                        "rgb_baseline_miou",
                        evaluate(onnx, trainRgb, testRgb, trainRgb.inputs, classes, cores, row, "rgb_")
                                .miou());
                perN.put(Integer.toString(n), row);
                System.out.printf(
                        "annotations %3d  mIoU %.4f  rgb+xy baseline %.4f  (train %.1f s)%n",
                        n, row.get("miou"), row.get("rgb_baseline_miou"), row.get("train_s"));
                System.out.printf("                 filter: %s%n", result.filter());
                System.out.printf("                 %s%n", result.confidence());
                System.out.printf("                 %s%n", result.confusion());
            }
            out.put("annotations", perN);
            Map<String, Object> first =
                    perN.isEmpty() ? Map.of() : asMap(perN.values().iterator().next());
            out.put("miou", first.get("miou"));
            out.put("rgb_baseline_miou", first.get("rgb_baseline_miou"));
            if (!skipReference) {
                Map<String, Object> row = new LinkedHashMap<>();
                Result result =
                        evaluate(onnx, annotated(train, mirrored, reference), test, inputs, classes, cores, row, "");
                double miou = result.miou();
                out.put("miou_256", miou);
                out.put("reference_annotations", reference);
                out.put("reference", row);
                System.out.printf("annotations %3d  mIoU %.4f  (train %.1f s)%n", reference, miou, row.get("train_s"));
                System.out.printf("                 filter: %s%n", result.filter());
                System.out.printf("                 %s%n", result.confidence());
                System.out.printf("                 %s%n", result.confusion());
            }
        }
        out.put("held_out", heldOut);
        out.put("balanced_annotations", balanced);
        out.put("mirrored_annotations", flip);
        out.put("ensemble", ensemble);
        out.put("hidden", hidden);
        out.put("refine_evaluations", refine);
        out.put("int8", int8);
        out.put("prior_correction", priorCorrection);
        out.put("seed", seed);
        if (json != null) {
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), out);
        }
        return 0;
    }

    /** The first {@code n} annotated renders, followed by their mirrored copies when there are any. */
    private static Renders annotated(Renders train, Renders mirrored, int n) {
        return mirrored == null ? train.first(n) : train.first(n).and(mirrored.first(n));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(Object o) {
        return (Map<String, Object>) o;
    }

    private Result evaluate(
            OnnxBackend onnx,
            Renders train,
            Renders test,
            List<LabellerOnnx.Input> inputs,
            int classes,
            int cores,
            Map<String, Object> row,
            String prefix) {
        long t0 = System.nanoTime();
        LabellerTrainer.Settings settings = new LabellerTrainer.Settings(
                ensemble,
                hidden.stream().mapToInt(Integer::intValue).toArray(),
                maxEpochs,
                patience,
                seed,
                64,
                1e-3f,
                cores);
        int[] epochs = new int[ensemble];
        Ensemble e = LabellerTrainer.train(
                        train.maps,
                        train.masks,
                        classes,
                        settings,
                        (m, epoch, loss) -> epochs[m] = epoch + 1,
                        () -> false)
                .withClassPriorCorrection(train.masks, priorCorrection);
        double seconds = (System.nanoTime() - t0) / 1e9;
        row.put(prefix + "train_s", seconds);
        row.put(prefix + "epochs", epochs);
        byte[] model = LabellerOnnx.export(e, inputs, 64, 64, "genaug-eval");
        Labelled labelled = labelAll(onnx, model, test);
        float[] labels = labelled.labels();
        SegmentationScore score = score(labels, test, classes);
        FilterScore filter =
                new FilterScore(classes, FilterScore.thresholdDropping(labelled.uncertainty(), dropFraction));
        for (int i = 0; i < test.maps.images(); i++) {
            filter.add(labels, i * 4096, truth(test, i), labelled.uncertainty()[i]);
        }
        row.put(prefix + "filter", FilterReport.figures(filter, dropFraction));
        ConfidenceScore confident = new ConfidenceScore(ConfidenceReport.FLOORS);
        for (int i = 0; i < test.maps.images(); i++) {
            confident.add(labels, labelled.confidence(), i * 4096, truth(test, i));
        }
        row.put(prefix + "confidence", ConfidenceReport.figures(confident));
        float[] firstLabels = java.util.Arrays.copyOf(labels, SHOWN * 4096);
        if (int8) {
            long t1 = System.nanoTime();
            byte[] quantized = LabellerOnnx.exportInt8(e, inputs, 64, 64, "genaug-eval", train.maps);
            row.put(prefix + "int8_export_s", (System.nanoTime() - t1) / 1e9);
            t1 = System.nanoTime();
            Labelled int8Labelled = labelAll(onnx, quantized, test);
            float[] int8Labels = int8Labelled.labels();
            row.put(prefix + "int8_label_s", (System.nanoTime() - t1) / 1e9);
            int same = 0;
            double confidenceError = 0;
            for (int i = 0; i < labels.length; i++) {
                same += labels[i] == int8Labels[i] ? 1 : 0;
                confidenceError += Math.abs(int8Labelled.confidence()[i] - labelled.confidence()[i]);
            }
            row.put(prefix + "int8_mean_confidence_error", confidenceError / labels.length);
            row.put(prefix + "int8_miou", score(int8Labels, test, classes).meanIou());
            row.put(prefix + "int8_label_agreement", (double) same / labels.length);
        }
        Map<String, Double> perClass = new LinkedHashMap<>();
        for (int c = 0; c < classes; c++) {
            perClass.put(ShapesParts.CLASSES.get(c), score.iou(c));
        }
        row.put(prefix + "class_iou", perClass);
        row.put(prefix + "confusion", ConfusionReport.figures(score, ShapesParts.CLASSES));
        return new Result(
                score.meanIou(),
                firstLabels,
                FilterReport.line(filter),
                ConfidenceReport.line(confident),
                ConfusionReport.line(score, ShapesParts.CLASSES));
    }

    private Labelled labelAll(OnnxBackend onnx, byte[] model, Renders test) {
        float[] all = new float[test.maps.images() * 4096];
        float[] confidence = new float[all.length];
        float[] uncertainty = new float[test.maps.images()];
        try (ScratchLabeller scratch = ScratchLabeller.stage(scratchRoot, model)) {
            for (int from = 0; from < test.maps.images(); from += Labelling.LABEL_CHUNK) {
                int start = from;
                int n = Math.min(Labelling.LABEL_CHUNK, test.maps.images() - start);
                Map<String, FloatTensor> feeds = new LinkedHashMap<>();
                test.maps.tensors().forEach((name, t) -> feeds.put(name, t.slice(start, n)));
                Map<String, FloatTensor> result = onnx.infer(
                        scratch.model(),
                        feeds,
                        List.of(LabellerOnnx.LABELS, LabellerOnnx.CONFIDENCE, LabellerOnnx.UNCERTAINTY));
                System.arraycopy(result.get(LabellerOnnx.LABELS).data(), 0, all, start * 4096, n * 4096);
                System.arraycopy(result.get(LabellerOnnx.CONFIDENCE).data(), 0, confidence, start * 4096, n * 4096);
                System.arraycopy(result.get(LabellerOnnx.UNCERTAINTY).data(), 0, uncertainty, start, n);
            }
            onnx.release(scratch.model());
        }
        return new Labelled(all, confidence, uncertainty);
    }

    private static SegmentationScore score(float[] labels, Renders test, int classes) {
        SegmentationScore score = new SegmentationScore(classes);
        for (int i = 0; i < test.maps.images(); i++) {
            score.add(labels, i * 4096, truth(test, i));
        }
        return score;
    }

    private static byte[] truth(Renders test, int i) {
        return java.util.Arrays.copyOfRange(test.masks, i * 4096, (i + 1) * 4096);
    }

    /**
     * Encoded renders: the features of their reconstructions and their true masks.
     *
     * @param rgb planar 8-bit RGB of the renders, [count, 3, 64, 64]
     */
    record Renders(FeatureMaps maps, byte[] masks, byte[] rgb, List<LabellerOnnx.Input> inputs) {
        /**
         * @param mirror mirror each render and its mask left to right
         * @param refine generator evaluations per render refining its encoding; 0: none
         */
        static Renders encode(
                OnnxBackend onnx,
                ResolvedModel encoder,
                ResolvedModel generator,
                List<LabellerOnnx.Input> inputs,
                long seed,
                long[] indices,
                boolean mirror,
                int refine) {
            int count = indices.length;
            List<byte[]> rgb = new ArrayList<>();
            byte[] masks = new byte[count * 4096];
            for (int i = 0; i < count; i++) {
                ShapesParts.Sample s = ShapesParts.render(seed, indices[i]);
                rgb.add(mirror ? mirrored(s.rgb(), 3) : s.rgb());
                System.arraycopy(mirror ? mirrored(s.mask(), 1) : s.mask(), 0, masks, i * 4096, 4096);
            }
            float[] mu = RenderEncoding.encode(onnx, encoder, generator, refine, rgb);
            FeatureMaps maps = FeatureSource.generate(onnx, generator, inputs, mu, count);
            byte[] planar = new byte[count * 3 * 4096];
            for (int i = 0; i < count; i++) {
                System.arraycopy(rgb.get(i), 0, planar, i * 3 * 4096, 3 * 4096);
            }
            return new Renders(maps, masks, planar, inputs);
        }

        /** Planar 64x64 planes mirrored left to right. */
        private static byte[] mirrored(byte[] planes, int channels) {
            byte[] out = new byte[planes.length];
            for (int c = 0; c < channels; c++) {
                for (int y = 0; y < 64; y++) {
                    for (int x = 0; x < 64; x++) {
                        out[(c * 64 + y) * 64 + x] = planes[(c * 64 + y) * 64 + 63 - x];
                    }
                }
            }
            return out;
        }

        /** These renders followed by {@code other}'s. */
        Renders and(Renders other) {
            List<FeatureMaps.Level> levels = new ArrayList<>();
            for (int l = 0; l < maps.levels().size(); l++) {
                FeatureMaps.Level a = maps.levels().get(l);
                float[] b = other.maps.levels().get(l).data();
                float[] data = java.util.Arrays.copyOf(a.data(), a.data().length + b.length);
                System.arraycopy(b, 0, data, a.data().length, b.length);
                levels.add(new FeatureMaps.Level(a.name(), a.channels(), a.stride(), data));
            }
            byte[] m = java.util.Arrays.copyOf(masks, masks.length + other.masks.length);
            System.arraycopy(other.masks, 0, m, masks.length, other.masks.length);
            byte[] c = java.util.Arrays.copyOf(rgb, rgb.length + other.rgb.length);
            System.arraycopy(other.rgb, 0, c, rgb.length, other.rgb.length);
            return new Renders(
                    new FeatureMaps(maps.images() + other.maps.images(), maps.height(), maps.width(), levels),
                    m,
                    c,
                    inputs);
        }

        Renders first(int n) {
            List<FeatureMaps.Level> levels = new ArrayList<>();
            for (FeatureMaps.Level l : maps.levels()) {
                int per = l.data().length / maps.images();
                levels.add(new FeatureMaps.Level(
                        l.name(), l.channels(), l.stride(), java.util.Arrays.copyOf(l.data(), n * per)));
            }
            return new Renders(
                    new FeatureMaps(n, maps.height(), maps.width(), levels),
                    java.util.Arrays.copyOf(masks, n * 4096),
                    java.util.Arrays.copyOf(rgb, n * 3 * 4096),
                    inputs);
        }

        /** The baseline's inputs: the decoded image and the pixel's coordinates in [-1, 1]. */
        Renders rgbAndCoordinates() {
            FeatureMaps.Level image = maps.levels().get(0);
            int n = maps.images();
            int h = maps.height();
            int w = maps.width();
            float[] coords = new float[n * 2 * h * w];
            for (int i = 0; i < n; i++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        coords[((i * 2) * h + y) * w + x] = (2f * x + 1) / w - 1;
                        coords[((i * 2 + 1) * h + y) * w + x] = (2f * y + 1) / h - 1;
                    }
                }
            }
            FeatureMaps.Level xy = new FeatureMaps.Level("coords", 2, 1, coords);
            return new Renders(
                    new FeatureMaps(n, h, w, List.of(image, xy)),
                    masks,
                    rgb,
                    List.of(
                            new LabellerOnnx.Input(image.name(), image.channels(), 1),
                            new LabellerOnnx.Input("coords", 2, 1)));
        }
    }
}

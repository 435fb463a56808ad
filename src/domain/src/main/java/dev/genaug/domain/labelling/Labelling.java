package dev.genaug.domain.labelling;

import com.google.protobuf.UnsafeByteOperations;
import dev.genaug.api.common.v1.Image;
import dev.genaug.api.events.v1.GeneratedBatch;
import dev.genaug.api.events.v1.LatentBatch;
import dev.genaug.api.labeller.v1.Annotation;
import dev.genaug.api.labeller.v1.AnnotationRefinement;
import dev.genaug.api.labeller.v1.LabelRequest;
import dev.genaug.api.labeller.v1.LabelResponse;
import dev.genaug.api.labeller.v1.LabellerArithmetic;
import dev.genaug.api.labeller.v1.TrainRequest;
import dev.genaug.api.model.v1.FeatureOutput;
import dev.genaug.api.model.v1.ImageSpec;
import dev.genaug.api.model.v1.ModelManifest;
import dev.genaug.api.model.v1.ModelRole;
import dev.genaug.domain.encoding.Encoding;
import dev.genaug.domain.error.CancelledException;
import dev.genaug.domain.error.FailedPreconditionException;
import dev.genaug.domain.error.InvalidArgumentException;
import dev.genaug.domain.files.Sha256;
import dev.genaug.domain.generation.GeneratedOutputs;
import dev.genaug.domain.inference.FloatTensor;
import dev.genaug.domain.inference.InferenceBackend;
import dev.genaug.domain.repository.ModelChecks;
import dev.genaug.domain.repository.ModelHashes;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import dev.genaug.domain.sampling.PriorSampler;
import dev.genaug.domain.tensor.ChwImage;
import dev.genaug.domain.tensor.ImageCodec;
import dev.genaug.domain.tensor.ImageInputs;
import dev.genaug.domain.tensor.LatentBatches;
import dev.genaug.domain.tensor.PngEncoder;
import dev.genaug.domain.tensor.Tensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;

/** DatasetGAN-style labelling: training a labeller from annotations, and applying it. */
public final class Labelling {
    /**
     * Pictures per run of the labeller when labelling samples: one. A picture's result then never
     * depends on its neighbours in a run (ONNX Runtime's vectorised reductions can round differently
     * at other offsets of a batch), so labelled datasets are byte-identical for any batching; memory
     * stays bounded too (the labeller's intermediates are members x hidden channels at full
     * resolution, 21 MB per picture for DatasetGAN's ensemble), and a picture is 4096 pixel rows,
     * enough for efficient GEMMs. The generator runs the samples in padded runs of up to 64
     * ({@link FeatureSource}, {@link dev.genaug.domain.inference.AlignedRuns}), as unlabelled jobs do.
     */
    public static final int LABEL_CHUNK = 1;

    /** Limits of one training: annotated images, ensemble members, width of a hidden layer. */
    public static final int MAX_ANNOTATIONS = 2048;

    public static final int MAX_ENSEMBLE = 64;
    /** Most generator evaluations per image annotation when its encoding is refined (the encoder's default cap). */
    public static final int MAX_REFINE_EVALUATIONS = 2000;

    public static final int MAX_HIDDEN = 4096;
    /**
     * Hidden widths of a training that names none: below 32 classes [32, 16], narrower than
     * DatasetGAN's [128, 32] for a quarter of its labelling cost at about the same mIoU
     * (docs/labelling.md); from 32 classes on [256, 128].
     */
    public static int[] defaultHidden(int classes) {
        return classes < 32 ? new int[] {32, 16} : new int[] {256, 128};
    }
    /** TrainRequest.class_prior_correction when unset (docs/labelling.md has the measurements). */
    public static final double DEFAULT_CLASS_PRIOR_CORRECTION = 0.25;
    /** Largest accepted class_prior_correction. */
    public static final float MAX_CLASS_PRIOR_CORRECTION = 2f;

    /**
     * Prior samples the uncertainty quantiles of a new labeller are measured on. The share a job
     * drops at the 0.9 quantile then lies within about 1 point of 10% (standard error
     * sqrt(0.9 x 0.1 / n)); with 256 it was 2 points, and a job dropped 7.6% instead of 10%.
     */
    public static final int REFERENCE_SAMPLES = 1024;
    /**
     * Mask value of a pixel without a class (the ignore index of segmentation losses): what a job's
     * ignore_below_confidence writes, and in annotations a pixel left unannotated, which training
     * and scoring skip.
     */
    public static final int IGNORED = 255;
    /** Pixels of a training mini-batch. */
    static final int BATCH = 64;
    /** Share of a labelled job dropped when the job does not say. */
    public static final float DEFAULT_DROP_FRACTION = 0.1f;

    /**
     * @param maxLabel most latents one Label call may carry (RESOURCE_EXHAUSTED above)
     * @param threads members trained at once
     */
    public record Settings(int maxLabel, int threads) {}

    private final ModelRepository repository;
    private final InferenceBackend backend;
    private final Settings settings;
    private final ModelHashes hashes = new ModelHashes();
    /** Uncertainty quantiles of truncated jobs, per labeller, generator and psi; measured on first use. */
    private final Map<String, float[]> truncatedQuantiles = new ConcurrentHashMap<>();

    public Labelling(ModelRepository repository, InferenceBackend backend, Settings settings) {
        this.repository = repository;
        this.backend = backend;
        this.settings = settings;
    }

    /**
     * A training request that passed every check, its annotations decoded once.
     *
     * @param labels class id of every pixel, [annotations, H, W]
     * @param latents [annotations, d]; rows of image annotations are filled by {@link #train}
     * @param imageRows annotations given as images, in order
     * @param images those images in the encoder's input range, [imageRows, C, H, W]
     * @param encoder the generator's paired encoder; null when no annotation is an image
     */
    private record Checked(
            ResolvedModel generator,
            byte[] labels,
            float[] latents,
            List<Integer> imageRows,
            float[] images,
            ResolvedModel encoder) {}

    /** Checks a training request completely, naming the offending annotation. */
    private Checked check(TrainRequest request) {
        if (request.getLabellerName().isEmpty()) {
            throw new InvalidArgumentException("labeller_name", "must name the labeller to register");
        }
        if (request.getAnnotationsCount() == 0) {
            throw new InvalidArgumentException("annotations", "at least one annotated image is needed");
        }
        if (request.getAnnotationsCount() > MAX_ANNOTATIONS) {
            throw new dev.genaug.domain.error.ResourceExhaustedException("annotations: " + request.getAnnotationsCount()
                    + " annotated images is above the cap of " + MAX_ANNOTATIONS + " per training");
        }
        if (request.getRefineEvaluations() > MAX_REFINE_EVALUATIONS) {
            throw new dev.genaug.domain.error.ResourceExhaustedException("refine_evaluations: "
                    + request.getRefineEvaluations() + " is above the cap of " + MAX_REFINE_EVALUATIONS
                    + " generator evaluations per image annotation");
        }
        if (request.getEnsembleSize() > MAX_ENSEMBLE) {
            throw new InvalidArgumentException(
                    "ensemble_size", "must be at most " + MAX_ENSEMBLE + ", got " + request.getEnsembleSize());
        }
        for (int i = 0; i < request.getHiddenSizesCount(); i++) {
            int width = request.getHiddenSizes(i);
            if (width < 1 || width > MAX_HIDDEN) {
                throw new InvalidArgumentException(
                        "hidden_sizes[" + i + "]", "must be in [1, " + MAX_HIDDEN + "], got " + width);
            }
        }
        if (request.getArithmetic() == LabellerArithmetic.UNRECOGNIZED) {
            throw new InvalidArgumentException(
                    "arithmetic", "unknown value " + request.getArithmeticValue() + "; FLOAT32 or INT8");
        }
        if (request.hasClassPriorCorrection()) {
            float tau = request.getClassPriorCorrection();
            if (!(tau >= 0 && tau <= MAX_CLASS_PRIOR_CORRECTION)) {
                throw new InvalidArgumentException(
                        "class_prior_correction", "must be in [0, " + MAX_CLASS_PRIOR_CORRECTION + "], got " + tau);
            }
        }
        int classes = request.getClassNamesCount();
        if (classes < 2 || classes > 255) {
            throw new InvalidArgumentException("class_names", "must hold 2 to 255 names, got " + classes);
        }
        ResolvedModel generator =
                ModelChecks.require(repository, request.getGenerator(), ModelRole.MODEL_ROLE_GENERATOR, "generator");
        // Checked again under the registry's lock at registration; here it fails before any work.
        repository
                .find(request.getLabellerName())
                .ifPresent(existing -> LabellerRegistry.requireCompatible(
                        existing,
                        identity(generator, request.getClassNamesList(), FeatureSource.inputs(generator.manifest()))));
        ImageSpec spec = generator.manifest().getImage();
        int dimension = generator.manifest().getLatent().getDimension();
        int n = request.getAnnotationsCount();
        int plane = spec.getHeight() * spec.getWidth();
        byte[] labels = new byte[n * plane];
        float[] latents = new float[n * dimension];
        List<Integer> imageRows = new ArrayList<>();
        List<float[]> images = new ArrayList<>();
        ResolvedModel encoder = null;
        long annotated = 0;
        for (int i = 0; i < n; i++) {
            Annotation a = request.getAnnotations(i);
            String field = "annotations[" + i + "]";
            switch (a.getSourceCase()) {
                case LATENT -> {
                    if (a.getLatent().getValuesCount() != dimension) {
                        throw new InvalidArgumentException(
                                field + ".latent",
                                "has " + a.getLatent().getValuesCount()
                                        + " values, the generator's latent dimension is " + dimension);
                    }
                    for (int k = 0; k < dimension; k++) {
                        float v = a.getLatent().getValues(k);
                        if (!Float.isFinite(v)) {
                            throw new InvalidArgumentException(field + ".latent", "holds a non-finite value " + v);
                        }
                        latents[i * dimension + k] = v;
                    }
                }
                case IMAGE -> {
                    if (encoder == null) {
                        encoder = ModelChecks.requireEncoderOf(
                                repository,
                                generator,
                                field + ".image",
                                "to encode it with (annotate a latent instead)");
                    }
                    imageRows.add(i);
                    images.add(
                            ImageInputs.decode(a.getImage(), encoder.manifest().getImage(), field + ".image")
                                    .pixels());
                }
                case SOURCE_NOT_SET -> throw new InvalidArgumentException(field, "needs a latent or an image");
            }
            ChwImage mask = ImageCodec.decodePng(a.getLabelPng().toByteArray(), 0f, 255f, field + ".label_png");
            if (mask.channels() != 1) {
                throw new InvalidArgumentException(
                        field + ".label_png", "must be single-channel, has " + mask.channels());
            }
            if (mask.width() != spec.getWidth() || mask.height() != spec.getHeight()) {
                throw new InvalidArgumentException(
                        field + ".label_png",
                        "is " + mask.width() + "x" + mask.height() + ", the generator's images are " + spec.getWidth()
                                + "x" + spec.getHeight());
            }
            byte[] ids = classIds(mask, classes, field + ".label_png", "");
            System.arraycopy(ids, 0, labels, i * plane, plane);
            annotated += LabellerTrainer.annotatedCount(ids);
        }
        if (annotated < BATCH) {
            throw new InvalidArgumentException(
                    "annotations",
                    "annotate " + annotated + " pixels in all; training needs at least " + BATCH + " (one mini-batch)");
        }
        float[] pixels = new float[images.stream().mapToInt(x -> x.length).sum()];
        int at = 0;
        for (float[] x : images) {
            System.arraycopy(x, 0, pixels, at, x.length);
            at += x.length;
        }
        return new Checked(generator, labels, latents, imageRows, pixels, encoder);
    }

    /**
     * The class ids of a label map, checked: each below {@code classes} or {@link #IGNORED} (not
     * annotated), and at least one pixel annotated.
     *
     * @param field the request field or option an error names
     * @param subject what an error's message is about, before it; "" for the field itself
     */
    public static byte[] classIds(ChwImage mask, int classes, String field, String subject) {
        String about = subject.isEmpty() ? "" : subject + " ";
        byte[] ids = new byte[mask.pixels().length];
        boolean any = false;
        for (int p = 0; p < ids.length; p++) {
            int id = Math.round(mask.pixels()[p]);
            if (id != IGNORED && id >= classes) {
                throw new InvalidArgumentException(
                        field,
                        about + "holds class id " + id + " but there are only " + classes + " class names (and "
                                + IGNORED + " for a pixel not annotated)");
            }
            ids[p] = (byte) id;
            any |= id != IGNORED;
        }
        if (!any) {
            throw new InvalidArgumentException(
                    field, about + "annotates no pixel: every pixel is " + IGNORED + " (not annotated)");
        }
        return ids;
    }

    /** Progress of a training: one report per member epoch. */
    public interface TrainListener {
        void epoch(int member, int epoch, double loss);

        /** Once, before any epoch, when image annotations were refined. */
        default void refined(AnnotationRefinement refinement) {}
    }

    /**
     * Trains and registers a labeller. Nothing is registered unless every step succeeds.
     *
     * @param cancelled polled between mini-batches; true abandons the training
     * @return the registered labeller version
     */
    public ResolvedModel train(TrainRequest request, TrainListener listener, BooleanSupplier cancelled) {
        long t0 = System.nanoTime();
        Checked checked = check(request);
        ResolvedModel generator = checked.generator();
        ModelManifest g = generator.manifest();
        int n = request.getAnnotationsCount();
        int h = g.getImage().getHeight();
        int w = g.getImage().getWidth();
        float[] latents = checked.latents();
        byte[] labels = checked.labels();
        if (!checked.imageRows().isEmpty()) {
            int d = g.getLatent().getDimension();
            float[] means = Encoding.means(
                    backend,
                    checked.encoder(),
                    checked.images(),
                    checked.imageRows().size());
            if (request.getRefineEvaluations() > 0) {
                Encoding.Refined refined = Encoding.refine(
                        backend,
                        generator,
                        means,
                        checked.images(),
                        checked.imageRows().size(),
                        request.getRefineEvaluations(),
                        0,
                        cancelled);
                means = refined.latents();
                AnnotationRefinement.Builder report = AnnotationRefinement.newBuilder();
                for (int r = 0; r < checked.imageRows().size(); r++) {
                    report.addAnnotations(checked.imageRows().get(r))
                            .addErrorBefore((float) refined.before()[r])
                            .addErrorAfter((float) refined.after()[r]);
                }
                listener.refined(report.build());
            }
            for (int r = 0; r < checked.imageRows().size(); r++) {
                System.arraycopy(means, r * d, latents, checked.imageRows().get(r) * d, d);
            }
        }
        List<LabellerOnnx.Input> inputs = FeatureSource.inputs(g);
        FeatureMaps maps = FeatureSource.generate(backend, generator, inputs, latents, n);
        int classes = request.getClassNamesCount();
        int[] hidden = request.getHiddenSizesCount() > 0
                ? request.getHiddenSizesList().stream()
                        .mapToInt(Integer::intValue)
                        .toArray()
                : defaultHidden(classes);
        LabellerTrainer.Settings ts = new LabellerTrainer.Settings(
                request.getEnsembleSize() > 0 ? request.getEnsembleSize() : 10,
                hidden,
                request.getMaxEpochs() > 0 ? request.getMaxEpochs() : 100,
                request.getPatience() > 0 ? request.getPatience() : 50,
                request.getSeed(),
                BATCH,
                1e-3f,
                settings.threads());
        double[] lastLoss = new double[ts.ensemble()];
        double tau =
                request.hasClassPriorCorrection() ? request.getClassPriorCorrection() : DEFAULT_CLASS_PRIOR_CORRECTION;
        Ensemble ensemble = LabellerTrainer.train(
                        maps,
                        labels,
                        classes,
                        ts,
                        (member, epoch, loss) -> {
                            lastLoss[member] = loss;
                            listener.epoch(member, epoch, loss);
                        },
                        cancelled)
                .withClassPriorCorrection(labels, tau);
        boolean int8 = request.getArithmetic() == LabellerArithmetic.LABELLER_ARITHMETIC_INT8;
        byte[] onnx = int8
                ? LabellerOnnx.exportInt8(ensemble, inputs, h, w, "genaug", maps)
                : LabellerOnnx.export(ensemble, inputs, h, w, "genaug");
        float[] quantiles;
        try (ScratchLabeller scratch = ScratchLabeller.stage(repository.root(), onnx)) {
            quantiles = uncertaintyQuantiles(scratch.model(), inputs, generator, 1f, cancelled);
            backend.release(scratch.model());
        }
        ModelManifest.Builder manifest = identity(generator, request.getClassNamesList(), inputs).toBuilder()
                .setFormatVersion(1)
                .setDescription("DatasetGAN-style labeller of '" + generator.name() + "': an ensemble of "
                        + ts.ensemble() + " per-pixel MLPs " + Arrays.toString(hidden) + " trained on " + n
                        + " annotations (seed " + request.getSeed() + ")" + (int8 ? ", 8-bit integer arithmetic" : ""))
                .setImage(ImageSpec.newBuilder()
                        .setWidth(w)
                        .setHeight(h)
                        .setChannels(1)
                        .setValueMin(0)
                        .setValueMax(255))
                .setPairedGeneratorVersion(Long.toString(generator.version()))
                .setPairedGeneratorSha256(hashes.sha256(generator))
                .setTrainingDataHash(annotationHash(latents, labels, request))
                .putTensors("labels", LabellerOnnx.LABELS)
                .putTensors("confidence", LabellerOnnx.CONFIDENCE)
                .putTensors("uncertainty", LabellerOnnx.UNCERTAINTY)
                .putMetrics("annotations", n)
                .putMetrics("ensemble_size", ts.ensemble())
                .putMetrics("parameters", ensemble.parameters())
                .putMetrics("flops_per_image", LabellerOnnx.flopsPerImage(ensemble, inputs, h, w))
                .putMetrics(
                        "graph_flops_per_image", int8 ? 0 : LabellerOnnx.exportedFlopsPerImage(ensemble, inputs, h, w))
                .putMetrics("class_prior_correction", tau)
                .putMetrics("int8", int8 ? 1 : 0)
                .putMetrics("int8_ops_per_image", int8 ? LabellerOnnx.int8OpsPerImage(ensemble, h, w) : 0)
                .putMetrics(
                        "final_training_loss", Arrays.stream(lastLoss).average().orElse(Double.NaN))
                .putMetrics("generator_version", generator.version())
                .putMetrics("training_seconds", (System.nanoTime() - t0) / 1e9)
                .addAllUncertaintyQuantiles(boxed(quantiles))
                .setUncertaintyReferenceSamples(REFERENCE_SAMPLES);
        if (cancelled.getAsBoolean()) {
            throw new CancelledException("labeller training was cancelled before registration");
        }
        return LabellerRegistry.register(repository, request.getLabellerName(), onnx, manifest.build(), generator);
    }

    /** What a labeller's name stands for across its versions: role, generator, classes, inputs. */
    private static ModelManifest identity(
            ResolvedModel generator, List<String> classNames, List<LabellerOnnx.Input> inputs) {
        ModelManifest.Builder m = ModelManifest.newBuilder()
                .setRole(ModelRole.MODEL_ROLE_LABELLER)
                .setPairedGenerator(generator.name())
                .addAllClassNames(classNames);
        for (LabellerOnnx.Input in : inputs) {
            m.addFeatures(FeatureOutput.newBuilder()
                    .setName(in.name())
                    .setChannels(in.channels())
                    .setStride(in.stride()));
        }
        return m.build();
    }

    private static List<Float> boxed(float[] values) {
        List<Float> out = new ArrayList<>();
        for (float v : values) {
            out.add(v);
        }
        return out;
    }

    /**
     * The uncertainty quantiles 0, 0.01, ..., 1 of a labeller on {@link #REFERENCE_SAMPLES} prior
     * samples (stream seed 0) drawn with truncation {@code psi}; psi 1 gives the registered ones.
     */
    float[] uncertaintyQuantiles(
            ResolvedModel labeller,
            List<LabellerOnnx.Input> inputs,
            ResolvedModel generator,
            float psi,
            BooleanSupplier cancelled) {
        int d = generator.manifest().getLatent().getDimension();
        float[] z = PriorSampler.create(d, psi, 0f, "job.").sample(0, 0, REFERENCE_SAMPLES);
        float[] u = new float[REFERENCE_SAMPLES];
        for (int start = 0; start < REFERENCE_SAMPLES; start += 64) {
            if (cancelled.getAsBoolean()) {
                throw new CancelledException("labeller training was cancelled");
            }
            int n = Math.min(64, REFERENCE_SAMPLES - start);
            FeatureMaps maps = FeatureSource.generate(
                    backend, generator, inputs, Arrays.copyOfRange(z, start * d, (start + n) * d), n);
            float[] part = infer(labeller, maps).uncertainty();
            System.arraycopy(part, 0, u, start, n);
        }
        Arrays.sort(u);
        float[] q = new float[101];
        for (int i = 0; i <= 100; i++) {
            double pos = i / 100.0 * (u.length - 1);
            int lo = (int) Math.floor(pos);
            int hi = Math.min(lo + 1, u.length - 1);
            q[i] = (float) (u[lo] + (pos - lo) * (u[hi] - u[lo]));
        }
        return q;
    }

    /**
     * The uncertainty quantiles a labelled job's filter reads: the registered ones for an
     * untruncated job; for a truncated one, the same measurement on prior samples drawn with the
     * job's psi, made once per labeller, generator and psi (about ten seconds on two cores).
     * Truncation moves the uncertainty: with the registered threshold the shipped labeller dropped
     * 10% of a job at psi 0.7 but 54% at psi 0.3 (docs/labelling.md).
     */
    /** How many truncations this instance has measured quantiles for. */
    int measuredTruncations() {
        return truncatedQuantiles.size();
    }

    float[] jobQuantiles(ResolvedModel labeller, ResolvedModel generator, float truncationPsi) {
        float psi = truncationPsi == 0f ? 1f : truncationPsi;
        float[] registered = registeredQuantiles(labeller.manifest());
        if (psi == 1f || registered.length == 0) {
            return registered;
        }
        String key = hashes.sha256(labeller) + " " + hashes.sha256(generator) + " " + Float.floatToIntBits(psi);
        return truncatedQuantiles.computeIfAbsent(
                key, k -> uncertaintyQuantiles(labeller, inputsOf(labeller), generator, psi, () -> false));
    }

    private static String annotationHash(float[] latents, byte[] labels, TrainRequest request) {
        java.security.MessageDigest sha = Sha256.newDigest();
        sha.update(Tensors.littleEndian(latents));
        sha.update(labels);
        sha.update(String.join("\n", request.getClassNamesList()).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return Sha256.hex(sha);
    }

    /** Checks a Label request: labeller, generator pairing, latents (with the cap). */
    private record LabelTarget(ResolvedModel labeller, ResolvedModel generator) {}

    private LabelTarget target(
            dev.genaug.api.common.v1.ModelRef labellerRef,
            dev.genaug.api.common.v1.ModelRef generatorRef,
            String labellerField) {
        ModelChecks.LabelledPair pair =
                ModelChecks.requireLabelledPair(repository, generatorRef, "generator", labellerRef, labellerField);
        ResolvedModel labeller = pair.labeller();
        ResolvedModel generator = pair.generator();
        List<String> offered = FeatureSource.inputs(generator.manifest()).stream()
                .map(LabellerOnnx.Input::name)
                .toList();
        for (FeatureOutput f : labeller.manifest().getFeaturesList()) {
            if (!offered.contains(f.getName())) {
                throw new FailedPreconditionException("generator: '" + generator.name() + "' version "
                        + generator.version() + " has no output '" + f.getName() + "' that labeller '"
                        + labeller.name() + "' reads");
            }
        }
        return new LabelTarget(labeller, generator);
    }

    /** The labeller's outputs for a batch: labels (as floats) and confidences [N, H, W], uncertainty [N]. */
    private record Labels(float[] labels, float[] confidence, float[] uncertainty) {}

    /** Generated samples with their labels; the maps hold the labeller's inputs and the image. */
    private record Labelled(FeatureMaps maps, Labels labels) {}

    private Labelled run(LabelTarget t, float[] latents, int rows) {
        List<LabellerOnnx.Input> inputs = new ArrayList<>(inputsOf(t.labeller()));
        // The image is always generated (the job writes it), whether or not the labeller reads it.
        LabellerOnnx.Input image =
                FeatureSource.inputs(t.generator().manifest()).get(0);
        if (inputs.stream().noneMatch(in -> in.name().equals(image.name()))) {
            inputs.add(image);
        }
        FeatureMaps maps = FeatureSource.generate(backend, t.generator(), inputs, latents, rows);
        return new Labelled(maps, infer(t.labeller(), maps));
    }

    static List<LabellerOnnx.Input> inputsOf(ResolvedModel labeller) {
        return labeller.manifest().getFeaturesList().stream()
                .map(f -> new LabellerOnnx.Input(f.getName(), f.getChannels(), f.getStride()))
                .toList();
    }

    /**
     * Runs a labeller over feature maps in chunks of {@link #LABEL_CHUNK} pictures, feeding it the
     * maps it reads (a labeller without a manifest, a scratch one, reads them all).
     */
    private Labels infer(ResolvedModel labeller, FeatureMaps maps) {
        int plane = maps.height() * maps.width();
        int rows = maps.images();
        float[] labels = new float[rows * plane];
        float[] confidence = new float[rows * plane];
        float[] uncertainty = new float[rows];
        Map<String, FloatTensor> all = maps.tensors();
        if (labeller.entry().manifest().isPresent()) {
            List<String> reads =
                    inputsOf(labeller).stream().map(LabellerOnnx.Input::name).toList();
            all.keySet().retainAll(reads);
        }
        for (int start = 0; start < rows; start += LABEL_CHUNK) {
            int n = Math.min(LABEL_CHUNK, rows - start);
            Map<String, FloatTensor> feeds = new java.util.LinkedHashMap<>();
            for (var e : all.entrySet()) {
                feeds.put(e.getKey(), rows == n ? e.getValue() : e.getValue().slice(start, n));
            }
            Map<String, FloatTensor> out = backend.infer(
                    labeller, feeds, List.of(LabellerOnnx.LABELS, LabellerOnnx.CONFIDENCE, LabellerOnnx.UNCERTAINTY));
            System.arraycopy(out.get(LabellerOnnx.LABELS).data(), 0, labels, start * plane, n * plane);
            System.arraycopy(out.get(LabellerOnnx.CONFIDENCE).data(), 0, confidence, start * plane, n * plane);
            System.arraycopy(out.get(LabellerOnnx.UNCERTAINTY).data(), 0, uncertainty, start, n);
        }
        return new Labels(labels, confidence, uncertainty);
    }

    public LabelResponse label(LabelRequest request) {
        LabelTarget t = target(request.getLabeller(), request.getGenerator(), "labeller");
        boolean hasLatents = request.hasLatents() && request.getLatents().getShapeCount() > 0;
        if (hasLatents == (request.getFeaturesCount() > 0)) {
            throw new InvalidArgumentException("latents", "set exactly one of latents and features");
        }
        Labels l;
        int rows;
        if (hasLatents) {
            int d = t.generator().manifest().getLatent().getDimension();
            float[] latents = LatentBatches.validate(request.getLatents(), d, settings.maxLabel(), "latents");
            rows = latents.length / d;
            l = run(t, latents, rows).labels();
        } else {
            FeatureMaps maps = featureMaps(t, request.getFeaturesMap());
            rows = maps.images();
            l = infer(t.labeller(), maps);
        }
        int h = t.generator().manifest().getImage().getHeight();
        int w = t.generator().manifest().getImage().getWidth();
        byte[] ids = new byte[l.labels().length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = (byte) (int) l.labels()[i];
        }
        LabelResponse.Builder out = LabelResponse.newBuilder()
                .setLabeller(t.labeller().ref())
                .setLabels(Tensors.uint8(ids, rows, h, w))
                .setConfidence(Tensors.fp32(l.confidence(), rows, h, w));
        for (float u : l.uncertainty()) {
            out.addUncertainty(u);
        }
        return out.build();
    }

    /** Feature maps given in a Label request, checked against what the labeller reads. */
    private FeatureMaps featureMaps(LabelTarget t, Map<String, dev.genaug.api.common.v1.Tensor> given) {
        ImageSpec spec = t.generator().manifest().getImage();
        int h = spec.getHeight();
        int w = spec.getWidth();
        List<FeatureOutput> wanted = t.labeller().manifest().getFeaturesList();
        for (String name : given.keySet()) {
            if (wanted.stream().noneMatch(f -> f.getName().equals(name))) {
                throw new InvalidArgumentException(
                        "features[\"" + name + "\"]",
                        "is not an input of labeller '" + t.labeller().name() + "' (it reads "
                                + wanted.stream().map(FeatureOutput::getName).toList() + ")");
            }
        }
        long rows = -1;
        List<FeatureMaps.Level> levels = new ArrayList<>();
        for (FeatureOutput f : wanted) {
            String field = "features[\"" + f.getName() + "\"]";
            dev.genaug.api.common.v1.Tensor tensor = given.get(f.getName());
            if (tensor == null) {
                throw new InvalidArgumentException(
                        field, "is missing: labeller '" + t.labeller().name() + "' reads it");
            }
            float[] values = Tensors.toFloats(tensor, field);
            List<Long> shape = tensor.getShapeList();
            List<Long> expected = List.of(
                    shape.isEmpty() ? -1L : shape.get(0), (long) f.getChannels(), (long) (h / f.getStride()), (long)
                            (w / f.getStride()));
            if (!shape.equals(expected) || shape.get(0) < 1) {
                throw new InvalidArgumentException(
                        field + ".shape",
                        "must be [N, " + f.getChannels() + ", " + h / f.getStride() + ", " + w / f.getStride()
                                + "] with N >= 1, got " + shape);
            }
            if (rows >= 0 && shape.get(0) != rows) {
                throw new InvalidArgumentException(
                        field + ".shape[0]",
                        "is " + shape.get(0) + " but other feature maps hold " + rows + " samples");
            }
            rows = shape.get(0);
            if (rows > settings.maxLabel()) {
                throw new dev.genaug.domain.error.ResourceExhaustedException(field + ": " + rows
                        + " samples is above this service's cap of " + settings.maxLabel() + " per Label call");
            }
            for (int i = 0; i < values.length; i++) {
                if (!Float.isFinite(values[i])) {
                    throw new InvalidArgumentException(field, "holds a non-finite value at flat index " + i);
                }
            }
            levels.add(new FeatureMaps.Level(f.getName(), f.getChannels(), f.getStride(), values));
        }
        return new FeatureMaps((int) rows, h, w, levels);
    }

    /** The uncertainty above which the registered quantiles (prior samples, untruncated) drop a sample. */
    public static float dropThreshold(ModelManifest labeller, float dropFraction) {
        return dropThreshold(registeredQuantiles(labeller), dropFraction);
    }

    /** The uncertainty quantiles recorded at registration (untruncated prior samples); empty if none. */
    private static float[] registeredQuantiles(ModelManifest labeller) {
        float[] q = new float[labeller.getUncertaintyQuantilesCount()];
        for (int i = 0; i < q.length; i++) {
            q[i] = labeller.getUncertaintyQuantiles(i);
        }
        return q;
    }

    /** The uncertainty above which a sample is dropped, from quantiles 0, 0.01, ..., 1 (none: no filter). */
    static float dropThreshold(float[] quantiles, float dropFraction) {
        if (dropFraction <= 0 || quantiles.length == 0) {
            return Float.POSITIVE_INFINITY;
        }
        int i = (int) Math.round((1 - dropFraction) * 100);
        return quantiles[Math.max(0, Math.min(100, i))];
    }

    /** Generates and labels one Kafka batch of a labelled job; throws what the job must fail with. */
    public GeneratedBatch label(LatentBatch batch) {
        LabelTarget t = target(batch.getLabeller(), batch.getModel(), "job.labeller");
        int d = t.generator().manifest().getLatent().getDimension();
        float[] latents = LatentBatches.validate(batch.getLatents(), d, Integer.MAX_VALUE, "latents");
        int rows = latents.length / d;
        if (rows != batch.getRange().getCount()) {
            throw new InvalidArgumentException(
                    "latents.shape[0]",
                    rows + " latents for a range of " + batch.getRange().getCount());
        }
        // Checked before any work: a labeller with 256 classes has no value left for ignored pixels.
        boolean ignoring = batch.getJob().hasIgnoreBelowConfidence();
        float floor = batch.getJob().getIgnoreBelowConfidence();
        if (ignoring && t.labeller().manifest().getClassNamesCount() > IGNORED) {
            throw new FailedPreconditionException(
                    "job.ignore_below_confidence: labeller '" + t.labeller().name()
                            + "' has " + t.labeller().manifest().getClassNamesCount() + " classes, so " + IGNORED
                            + " is one of its class ids, not free to mark ignored pixels");
        }
        Labelled run = run(t, latents, rows);
        Labels l = run.labels();
        float fraction = batch.getJob().hasDropFraction() ? batch.getJob().getDropFraction() : DEFAULT_DROP_FRACTION;
        // A job that keeps everything needs no quantiles (measuring them for a truncated one takes seconds).
        float threshold = fraction <= 0
                ? Float.POSITIVE_INFINITY
                : dropThreshold(
                        jobQuantiles(t.labeller(), t.generator(), batch.getJob().getTruncationPsi()), fraction);
        ImageSpec spec = t.generator().manifest().getImage();
        FeatureMaps.Level image = run.maps().level(t.generator().manifest().getTensorsOrDefault("image", "image"));
        FloatTensor images =
                new FloatTensor(new long[] {rows, image.channels(), spec.getHeight(), spec.getWidth()}, image.data());
        GeneratedBatch.Builder out = GeneratedBatch.newBuilder()
                .setJobId(batch.getJobId())
                .setRange(batch.getRange())
                .addAllProvenance(batch.getProvenanceList())
                .setJob(batch.getJob())
                .setModel(t.generator().ref())
                .setModelSha256(hashes.sha256(t.generator()))
                .setLabeller(t.labeller().ref())
                .setLabellerSha256(hashes.sha256(t.labeller()))
                .addAllClassNames(t.labeller().manifest().getClassNamesList());
        if (threshold != Float.POSITIVE_INFINITY) {
            out.setDropThreshold(threshold);
        }
        int plane = spec.getHeight() * spec.getWidth();
        byte[] ids = new byte[plane];
        for (byte[] png : GeneratedOutputs.pngs(images, spec)) {
            out.addImages(Image.newBuilder()
                    .setPng(UnsafeByteOperations.unsafeWrap(png))
                    .setChannels(image.channels())
                    .setHeight(spec.getHeight())
                    .setWidth(spec.getWidth()));
        }
        for (int i = 0; i < rows; i++) {
            int ignored = 0;
            for (int p = 0; p < plane; p++) {
                if (ignoring && l.confidence()[i * plane + p] < floor) {
                    ids[p] = (byte) IGNORED;
                    ignored++;
                } else {
                    ids[p] = (byte) (int) l.labels()[i * plane + p];
                }
            }
            if (ignoring) {
                out.addIgnoredPixels(ignored);
            }
            out.addMasks(Image.newBuilder()
                    .setPng(UnsafeByteOperations.unsafeWrap(
                            PngEncoder.encode(ids, 1, spec.getHeight(), spec.getWidth())))
                    .setChannels(1)
                    .setHeight(spec.getHeight())
                    .setWidth(spec.getWidth()));
            out.addUncertainty(l.uncertainty()[i]);
            out.addDropped(l.uncertainty()[i] > threshold);
        }
        return out.build();
    }
}

package dev.genaug.cli;

import com.google.protobuf.ByteString;
import dev.genaug.api.common.v1.Image;
import dev.genaug.api.common.v1.ModelRef;
import dev.genaug.api.labeller.v1.Annotation;
import dev.genaug.api.labeller.v1.AnnotationRefinement;
import dev.genaug.api.labeller.v1.LabellerArithmetic;
import dev.genaug.api.labeller.v1.TrainRequest;
import dev.genaug.domain.dataset.ShapesParts;
import dev.genaug.domain.error.InvalidArgumentException;
import dev.genaug.domain.inference.InferenceBackend;
import dev.genaug.domain.labelling.Labelling;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import dev.genaug.domain.tensor.ImageCodec;
import dev.genaug.inference.FusedLabellerBackend;
import dev.genaug.inference.OnnxBackend;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code genaug labeller train}: a labeller trained and registered in the model repository, in this
 * process, on a folder of annotated generated samples ({@code --annotations DIR}) or on N renders
 * of the reference dataset with their ground-truth masks ({@code --from-renders N}, each render
 * encoded by the generator's paired encoder).
 */
@Command(
        name = "train",
        mixinStandardHelpOptions = true,
        description = "Train a labeller on annotated pictures and register it in the model repository.")
final class LabellerTrainCommand implements Callable<Integer> {
    static final int DEFAULT_RENDERS = 16;

    @Option(
            names = "--from-renders",
            description = "Annotations: this many renders (seed 1) of the reference dataset with their true masks"
                    + " (the default, " + DEFAULT_RENDERS + ", when --annotations is not given).")
    Integer renders;

    @Option(
            names = "--annotations",
            paramLabel = "DIR",
            description =
                    "Annotations: every <key>.mask.png in DIR (8-bit grayscale or palette, one class id per pixel) with"
                            + " <key>.json beside it, the metadata of a sample genaug generated (its latent is replayed"
                            + " exactly), or else <key>.png (encoded by the generator's paired encoder; --refine applies).")
    Path annotations;

    @Option(
            names = "--classes",
            split = ",",
            defaultValue = "background,wall,roof,door,window,trunk,crown,fruit,body,cabin,wheel",
            description = "Class names, class id = position in this list (default: the reference dataset's,"
                    + " ${DEFAULT-VALUE}).")
    List<String> classes;

    @Option(
            names = "--balanced",
            negatable = true,
            defaultValue = "true",
            fallbackValue = "true",
            description = "With --from-renders: take the renders in turn from each category (default"
                    + " ${DEFAULT-VALUE}); --no-balanced takes the first ones, with the dataset's 60/30/10 skew.")
    boolean balanced;

    @Option(
            names = "--name",
            defaultValue = "shapes-labeller",
            description = "Labeller name (default ${DEFAULT-VALUE}).")
    String name;

    @Option(
            names = "--generator",
            defaultValue = "shapes-generator",
            description = "Generator whose features it reads (default ${DEFAULT-VALUE}).")
    String generator;

    @Option(names = "--ensemble", defaultValue = "10", description = "Members (default ${DEFAULT-VALUE}).")
    int ensemble;

    @Option(
            names = "--hidden",
            split = ",",
            description = "Hidden layer widths of each member, e.g. 128,32 as in DatasetGAN (default: 32,16, or"
                    + " 256,128 from 32 classes on).")
    List<Integer> hidden = List.of();

    @Option(names = "--max-epochs", defaultValue = "100", description = "Epoch cap (default ${DEFAULT-VALUE}).")
    int maxEpochs;

    @Option(
            names = "--patience",
            defaultValue = "50",
            description = "Mini-batches without improvement before a member stops (default ${DEFAULT-VALUE}).")
    int patience;

    @Option(
            names = "--refine",
            defaultValue = "0",
            description = "Generator evaluations per encoded picture refining its encoding (CMA-ES) before"
                    + " training; 0: the posterior mean (default ${DEFAULT-VALUE}).")
    int refine;

    @Option(
            names = "--int8",
            description = "Register the labeller with 8-bit integer arithmetic (LABELLER_ARITHMETIC_INT8): several"
                    + " times faster on CPUs with VNNI or AMX, labels within a fraction of a point of float's.")
    boolean int8;

    @Option(
            names = "--prior-correction",
            description = "Class-prior correction tau (class_prior_correction): logits of class c moved by"
                    + " -tau ln(its share of the annotated pixels); 0 turns it off (default "
                    + Labelling.DEFAULT_CLASS_PRIOR_CORRECTION + ").")
    Float priorCorrection;

    @Option(names = "--seed", defaultValue = "0", description = "Training seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--threads", defaultValue = "0", description = "Threads; 0 means one per core.")
    int threads;

    @Option(
            names = {"--models", "--repository"},
            description = "Model repository to register in, as generate and up take it (default:"
                    + " deploy/model-repository of this checkout).")
    Path repositoryRoot;

    @Override
    public Integer call() {
        if (annotations != null && renders != null) {
            throw new InvalidArgumentException("--annotations", "cannot be combined with --from-renders");
        }
        if (renders != null && renders < 1) {
            throw new InvalidArgumentException("--from-renders", "must be >= 1, got " + renders);
        }
        Path root = LocalStack.models(repositoryRoot);
        ModelRepository repository = ModelRepository.open(root);
        TrainRequest.Builder request = TrainRequest.newBuilder()
                .setGenerator(ModelRef.newBuilder().setName(generator))
                .setLabellerName(name)
                .addAllClassNames(classes)
                .setEnsembleSize(ensemble)
                .addAllHiddenSizes(hidden)
                .setMaxEpochs(maxEpochs)
                .setPatience(patience)
                .setRefineEvaluations(refine)
                .setArithmetic(
                        int8
                                ? LabellerArithmetic.LABELLER_ARITHMETIC_INT8
                                : LabellerArithmetic.LABELLER_ARITHMETIC_FLOAT32)
                .setSeed(seed);
        if (priorCorrection != null) {
            request.setClassPriorCorrection(priorCorrection);
        }
        if (annotations != null) {
            AnnotationFolder.Contents folder = AnnotationFolder.read(annotations, repository, generator);
            request.setGenerator(ModelRef.newBuilder().setName(generator).setVersion(folder.generatorVersion()));
            List<AnnotationFolder.Entry> entries = folder.entries();
            for (int i = 0; i < entries.size(); i++) {
                // Errors name annotations[i]: this legend says which files that is.
                System.out.printf(
                        "annotations[%d]  %s%s  %s%n",
                        i,
                        entries.get(i).key(),
                        AnnotationFolder.MASK,
                        entries.get(i).source());
                request.addAnnotations(entries.get(i).annotation());
            }
        } else {
            int count = renders != null ? renders : DEFAULT_RENDERS;
            long[] indices = balanced
                    ? ShapesParts.balancedIndices(1, count)
                    : java.util.stream.LongStream.range(0, count).toArray();
            for (long index : indices) {
                ShapesParts.Sample s = ShapesParts.render(1, index);
                request.addAnnotations(Annotation.newBuilder()
                        .setImage(Image.newBuilder()
                                .setPng(ByteString.copyFrom(ImageCodec.encodePng(s.rgb(), 3, 64, 64))))
                        .setLabelPng(ByteString.copyFrom(ImageCodec.encodePng(s.mask(), 1, 64, 64))));
            }
        }
        int cores = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        long t0 = System.nanoTime();
        try (OnnxBackend onnx = new OnnxBackend(new OnnxBackend.Settings(cores, false, false));
                InferenceBackend backend = FusedLabellerBackend.whereAvailable(onnx, cores)) {
            Labelling labelling = new Labelling(repository, backend, new Labelling.Settings(256, cores));
            ResolvedModel labeller = labelling.train(
                    request.build(),
                    new Labelling.TrainListener() {
                        @Override
                        public void epoch(int member, int epoch, double loss) {
                            System.out.printf("member %2d  epoch %3d  loss %.4f%n", member, epoch, loss);
                        }

                        @Override
                        public void refined(AnnotationRefinement r) {
                            double before = 0;
                            double after = 0;
                            for (int i = 0; i < r.getAnnotationsCount(); i++) {
                                before += r.getErrorBefore(i);
                                after += r.getErrorAfter(i);
                            }
                            System.out.printf(
                                    "refined %d encodings: mean squared error %.4f -> %.4f%n",
                                    r.getAnnotationsCount(),
                                    before / r.getAnnotationsCount(),
                                    after / r.getAnnotationsCount());
                        }
                    },
                    () -> false);
            System.out.printf(
                    "registered %s version %d in %s (%.1f s)%n",
                    labeller.name(), labeller.version(), root, (System.nanoTime() - t0) / 1e9);
            // The command to copy names the repository unless it is the default one generate reads too.
            String models = repositoryRoot == null ? "" : " --models " + root;
            System.out.println("label a dataset: ./genaug generate" + models + " --labeller " + labeller.name()
                    + " --count 1000 --out DIR");
        }
        return 0;
    }
}

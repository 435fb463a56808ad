package dev.genaug.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.genaug.api.common.v1.ModelRef;
import dev.genaug.api.encoder.v1.EncodeRequest;
import dev.genaug.api.labeller.v1.LabelRequest;
import dev.genaug.api.labeller.v1.LabelResponse;
import dev.genaug.api.model.v1.ImageSpec;
import dev.genaug.api.model.v1.ModelRole;
import dev.genaug.domain.encoding.Encoding;
import dev.genaug.domain.error.InvalidArgumentException;
import dev.genaug.domain.inference.InferenceBackend;
import dev.genaug.domain.labelling.FilterScore;
import dev.genaug.domain.labelling.Labelling;
import dev.genaug.domain.labelling.SegmentationScore;
import dev.genaug.domain.repository.ModelChecks;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import dev.genaug.domain.tensor.ChwImage;
import dev.genaug.domain.tensor.ImageCodec;
import dev.genaug.domain.tensor.Tensors;
import dev.genaug.inference.FusedLabellerBackend;
import dev.genaug.inference.OnnxBackend;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code genaug labeller score}: how well a registered labeller labels pictures a person annotated
 * (a folder as {@code labeller train --annotations} reads it, kept out of its training), as
 * per-class IoU over the whole folder and their mean, and which classes it takes for which, in this
 * process.
 */
@Command(
        name = "score",
        mixinStandardHelpOptions = true,
        description = "mIoU of a registered labeller on a folder of annotated pictures (the layout labeller train"
                + " --annotations reads), and the classes it takes most often for others.")
final class LabellerScoreCommand implements Callable<Integer> {
    /** Pictures per Label call. */
    private static final int LABEL_CHUNK = 64;

    @Option(names = "--labeller", required = true, description = "Registered labeller (its latest version).")
    String labeller;

    @Option(
            names = "--annotations",
            required = true,
            paramLabel = "DIR",
            description = "<key>.mask.png files with <key>.json (a generated sample: its latent is replayed) or"
                    + " <key>.png (encoded by the generator's paired encoder) beside each.")
    Path annotations;

    @Option(
            names = "--drop-fraction",
            defaultValue = "" + Labelling.DEFAULT_DROP_FRACTION,
            description = "Drop fraction of the labelled job whose filter is scored: pictures with an uncertainty"
                    + " above the labeller's registered (1 - fraction) quantile, the threshold of an untruncated"
                    + " job, are scored apart (default ${DEFAULT-VALUE}, a job's default).")
    float dropFraction;

    @Option(names = "--json", description = "Write the figures to this file.")
    Path json;

    @Option(names = "--threads", defaultValue = "0", description = "Threads; 0 means one per core.")
    int threads;

    @Option(
            names = {"--models", "--repository"},
            description = "Model repository, as generate and up take it (default: deploy/model-repository of this"
                    + " checkout).")
    Path repositoryRoot;

    @Override
    public Integer call() throws Exception {
        FilterReport.checkDropFraction(dropFraction);
        Path root = LocalStack.models(repositoryRoot);
        ModelRepository repository = ModelRepository.open(root);
        ResolvedModel model = ModelChecks.require(
                repository,
                ModelRef.newBuilder().setName(labeller).build(),
                ModelRole.MODEL_ROLE_LABELLER,
                "--labeller");
        String generatorName = model.manifest().getPairedGenerator();
        AnnotationFolder.Contents folder = AnnotationFolder.read(annotations, repository, generatorName);
        // Pictures to encode are encoded for the generator version the labeller was trained on.
        ResolvedModel generator = repository.resolve(
                generatorName, ModelChecks.generatorVersionFor(model, folder.generatorVersion()), "generator");
        List<AnnotationFolder.Entry> entries = folder.entries();
        List<String> classes = model.manifest().getClassNamesList();
        ImageSpec spec = generator.manifest().getImage();
        int plane = spec.getHeight() * spec.getWidth();
        int d = generator.manifest().getLatent().getDimension();
        // Masks are checked before any inference, so a bad one fails at once.
        byte[][] truths = new byte[entries.size()][];
        for (int i = 0; i < truths.length; i++) {
            truths[i] = truth(entries.get(i), spec, classes.size());
        }
        int cores = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        SegmentationScore score = new SegmentationScore(classes.size());
        // The threshold an untruncated labelled job with this drop fraction applies.
        FilterScore filter = new FilterScore(classes.size(), Labelling.dropThreshold(model.manifest(), dropFraction));
        try (OnnxBackend onnx = new OnnxBackend(new OnnxBackend.Settings(cores, false, false));
                InferenceBackend backend = FusedLabellerBackend.whereAvailable(onnx, cores)) {
            float[] latents = latents(onnx, repository, generator, entries, d);
            Labelling labelling = new Labelling(repository, backend, new Labelling.Settings(LABEL_CHUNK, cores));
            for (int from = 0; from < entries.size(); from += LABEL_CHUNK) {
                int rows = Math.min(LABEL_CHUNK, entries.size() - from);
                float[] chunk = new float[rows * d];
                System.arraycopy(latents, from * d, chunk, 0, rows * d);
                LabelResponse labels = labelling.label(LabelRequest.newBuilder()
                        .setLabeller(model.ref())
                        .setGenerator(generator.ref())
                        .setLatents(Tensors.fp32(chunk, rows, d))
                        .build());
                byte[] ids = labels.getLabels().getData().toByteArray();
                float[] predicted = new float[ids.length];
                for (int p = 0; p < ids.length; p++) {
                    predicted[p] = ids[p] & 0xff;
                }
                for (int i = 0; i < rows; i++) {
                    score.add(predicted, i * plane, truths[from + i]);
                    filter.add(predicted, i * plane, truths[from + i], labels.getUncertainty(i));
                }
            }
        }
        Map<String, Object> classIou = new LinkedHashMap<>();
        for (int c = 0; c < classes.size(); c++) {
            double iou = score.iou(c);
            classIou.put(classes.get(c), Double.isNaN(iou) ? null : iou);
            System.out.printf("%-16s %s%n", classes.get(c), Double.isNaN(iou) ? "absent" : String.format("%.4f", iou));
        }
        System.out.printf(
                "mIoU %.4f on %d annotated pictures (%s version %d)%n",
                score.meanIou(), entries.size(), model.name(), model.version());
        System.out.println(ConfusionReport.line(score, classes));
        if (Float.isInfinite(filter.threshold())) {
            System.out.printf(
                    "uncertainty filter off (drop fraction %s, or a labeller without quantiles): %s%n",
                    dropFraction, FilterReport.line(filter));
        } else {
            System.out.printf(
                    "uncertainty filter (drop fraction %s: above %.4f, the labeller's %d%% quantile on prior"
                            + " samples): %s%n",
                    dropFraction, filter.threshold(), Math.round((1 - dropFraction) * 100), FilterReport.line(filter));
        }
        if (json != null) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("labeller", model.name());
            out.put("labeller_version", model.version());
            out.put("pictures", entries.size());
            out.put("miou", score.meanIou());
            out.put("class_iou", classIou);
            out.put("confusion", ConfusionReport.figures(score, classes));
            out.put("filter", FilterReport.figures(filter, dropFraction));
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), out);
        }
        return 0;
    }

    /** Every entry's latent: replayed ones as read, pictures encoded by the generator's paired encoder. */
    private static float[] latents(
            OnnxBackend onnx,
            ModelRepository repository,
            ResolvedModel generator,
            List<AnnotationFolder.Entry> entries,
            int d) {
        float[] out = new float[entries.size() * d];
        Encoding encoding = new Encoding(repository, onnx, 1);
        ResolvedModel encoder = null;
        for (int i = 0; i < entries.size(); i++) {
            AnnotationFolder.Entry entry = entries.get(i);
            if (entry.annotation().hasLatent()) {
                List<Float> z = entry.annotation().getLatent().getValuesList();
                for (int k = 0; k < d; k++) {
                    out[i * d + k] = z.get(k);
                }
                continue;
            }
            if (encoder == null) {
                encoder = ModelChecks.requireEncoderOf(
                        repository, generator, "--annotations", "to encode its pictures with");
            }
            EncodeRequest request = EncodeRequest.newBuilder()
                    .setModel(encoder.ref())
                    .addImages(entry.annotation().getImage())
                    .build();
            try {
                float[] mean = Tensors.toFloats(encoding.encode(request).getMean(), "mean");
                System.arraycopy(mean, 0, out, i * d, d);
            } catch (InvalidArgumentException e) {
                // The encoder names images[0]: say which file that is.
                throw new InvalidArgumentException("--annotations", entry.key() + ".png: " + e.getMessage());
            }
        }
        return out;
    }

    /** The annotated class ids of one picture, checked against the generator's size and the labeller's classes. */
    private static byte[] truth(AnnotationFolder.Entry entry, ImageSpec spec, int classes) {
        String field = entry.key() + AnnotationFolder.MASK;
        ChwImage mask = ImageCodec.decodePng(entry.annotation().getLabelPng().toByteArray(), 0f, 255f, field);
        if (mask.channels() != 1 || mask.height() != spec.getHeight() || mask.width() != spec.getWidth()) {
            throw new InvalidArgumentException(
                    "--annotations",
                    field + " is " + mask.width() + "x" + mask.height() + " with " + mask.channels()
                            + " channels; the generator's pictures are " + spec.getWidth() + "x" + spec.getHeight()
                            + " with one class id per pixel");
        }
        return Labelling.classIds(mask, classes, "--annotations", field);
    }
}

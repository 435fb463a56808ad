package dev.genaug.inference;

import dev.genaug.api.model.v1.ModelManifest;
import dev.genaug.api.model.v1.ModelRole;
import dev.genaug.api.onnx.ModelProto;
import dev.genaug.domain.inference.FloatTensor;
import dev.genaug.domain.inference.InferenceBackend;
import dev.genaug.domain.labelling.Ensemble;
import dev.genaug.domain.labelling.LabellerOnnx;
import dev.genaug.domain.repository.ResolvedModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinPool;
import java.util.logging.Logger;

/**
 * Runs genaug's float labellers with {@link FusedLabeller} on the CPU, and everything else (other
 * models, int8 labellers, inputs of other shapes) with the backend it wraps. Needs the JDK's vector
 * API ({@code --add-modules jdk.incubator.vector}); without it every model goes to the wrapped
 * backend, so a JVM started without the flag labels as before, only slower.
 */
public final class FusedLabellerBackend implements InferenceBackend {
    private static final Logger LOG = Logger.getLogger(FusedLabellerBackend.class.getName());
    private static final List<String> OUTPUTS =
            List.of(LabellerOnnx.LABELS, LabellerOnnx.CONFIDENCE, LabellerOnnx.UNCERTAINTY);

    private static final boolean VECTOR_API =
            ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

    private final InferenceBackend delegate;
    private final ForkJoinPool pool;
    // By model file, with the modification time it was read at: a version exported again is read again.
    private final Map<Path, Loaded> fused = new ConcurrentHashMap<>();

    /** A model file as read: its fused form, or empty when the kernel does not take it. */
    private record Loaded(long modified, Optional<FusedLabeller> labeller) {}

    /**
     * @param threads cores one labelling run uses; 0: one per core
     */
    public FusedLabellerBackend(InferenceBackend delegate, int threads) {
        this.delegate = delegate;
        this.pool =
                new ForkJoinPool(threads > 0 ? threads : Runtime.getRuntime().availableProcessors());
    }

    /** {@code backend} wrapped where this JVM has the vector API, else {@code backend} itself. */
    public static InferenceBackend whereAvailable(InferenceBackend backend, int threads) {
        return available() ? new FusedLabellerBackend(backend, threads) : backend;
    }

    /** Whether this JVM has the vector API, without which nothing is fused. */
    public static boolean available() {
        return VECTOR_API;
    }

    /** Whether {@code model} runs fused here (the vector API is present and the graph is one it takes). */
    public boolean fuses(ResolvedModel model) {
        return fusedFor(model) != null;
    }

    @Override
    public Map<String, FloatTensor> infer(ResolvedModel model, Map<String, FloatTensor> inputs, List<String> outputs) {
        FusedLabeller labeller = fusedFor(model);
        if (labeller == null || !OUTPUTS.containsAll(outputs)) {
            return delegate.infer(model, inputs, outputs);
        }
        Map<String, long[]> shapes = labeller.inputShapes();
        Map<String, float[]> data = new LinkedHashMap<>();
        int pictures = -1;
        for (var e : shapes.entrySet()) {
            FloatTensor t = inputs.get(e.getKey());
            if (t == null
                    || t.shape().length != 4
                    || !Arrays.equals(Arrays.copyOfRange(t.shape(), 1, 4), e.getValue())
                    || (pictures >= 0 && t.shape()[0] != pictures)) {
                return delegate.infer(model, inputs, outputs); // its own error names what is wrong
            }
            pictures = (int) t.shape()[0];
            data.put(e.getKey(), t.data());
        }
        if (inputs.size() != shapes.size()) {
            return delegate.infer(model, inputs, outputs);
        }
        FusedLabeller.Outputs out = labeller.label(data, pictures, pool);
        long[] plane = {
            pictures,
            model.manifest().getImage().getHeight(),
            model.manifest().getImage().getWidth()
        };
        Map<String, FloatTensor> result = new LinkedHashMap<>();
        for (String name : outputs.isEmpty() ? OUTPUTS : outputs) {
            result.put(
                    name,
                    switch (name) {
                        case LabellerOnnx.LABELS -> new FloatTensor(plane, out.labels());
                        case LabellerOnnx.CONFIDENCE -> new FloatTensor(plane, out.confidence());
                        default -> new FloatTensor(new long[] {pictures}, out.uncertainty());
                    });
        }
        return result;
    }

    private FusedLabeller fusedFor(ResolvedModel model) {
        if (!available()) {
            return null;
        }
        if (model.manifestIfAny()
                .filter(m -> m.getRole() == ModelRole.MODEL_ROLE_LABELLER)
                .isEmpty()) {
            return null; // not a labeller, or one staged during training before its manifest is written
        }
        Path file = model.modelFile();
        long modified;
        try {
            modified = Files.getLastModifiedTime(file).toMillis();
        } catch (IOException e) {
            return null; // the wrapped backend reports the unreadable file
        }
        Loaded loaded = fused.get(file);
        if (loaded == null || loaded.modified() != modified) {
            loaded = fused.compute(
                    file,
                    (f, old) -> old != null && old.modified() == modified
                            ? old
                            : new Loaded(modified, Optional.ofNullable(load(model, f))));
        }
        return loaded.labeller().orElse(null);
    }

    private static FusedLabeller load(ResolvedModel model, Path file) {
        ModelManifest manifest = model.manifest();
        List<FusedLabeller.Feature> features = manifest.getFeaturesList().stream()
                .map(f -> new FusedLabeller.Feature(f.getName(), (int) f.getChannels(), (int) f.getStride()))
                .toList();
        int height = (int) manifest.getImage().getHeight();
        int width = (int) manifest.getImage().getWidth();
        try {
            FusedLabeller labeller = FusedLabeller.of(
                    ModelProto.parseFrom(Files.readAllBytes(file)),
                    features,
                    height,
                    width,
                    Ensemble.topCount(height * width));
            LOG.fine(() -> model.name() + " version " + model.version()
                    + (labeller == null ? " runs in the wrapped backend" : " runs fused"));
            return labeller;
        } catch (IOException e) {
            return null; // the wrapped backend reports the unreadable file
        }
    }

    @Override
    public void release(ResolvedModel model) {
        fused.remove(model.modelFile());
        delegate.release(model);
    }

    @Override
    public String name() {
        return delegate.name();
    }

    @Override
    public void close() {
        pool.shutdownNow();
        delegate.close();
    }
}

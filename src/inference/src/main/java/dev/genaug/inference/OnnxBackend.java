package dev.genaug.inference;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import dev.genaug.domain.error.FailedPreconditionException;
import dev.genaug.domain.error.InvalidArgumentException;
import dev.genaug.domain.inference.FloatTensor;
import dev.genaug.domain.inference.InferenceBackend;
import dev.genaug.domain.repository.ResolvedModel;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * ONNX Runtime in this process: one session per model version, opened on first use from
 * {@code <version>/model.onnx} and kept. With {@code useCuda} the CUDA execution provider is tried
 * first; where it is missing the session runs on the CPU and says so once in the log.
 */
public final class OnnxBackend implements InferenceBackend {
    private static final Logger LOG = Logger.getLogger(OnnxBackend.class.getName());

    /**
     * @param intraOpThreads threads per run (0: ONNX Runtime's default, one per core)
     * @param useCuda try the CUDA execution provider first
     * @param spinning let idle intra-op threads busy-wait for the next run (lowest latency when
     *     nothing else needs the cores); without it they spin only while a run is in progress
     */
    public record Settings(int intraOpThreads, boolean useCuda, boolean spinning) {
        public Settings(int intraOpThreads, boolean useCuda) {
            this(intraOpThreads, useCuda, true);
        }
    }

    /** Whether this process's ONNX Runtime build has the CUDA execution provider. */
    public static boolean cudaAvailable() {
        return OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA);
    }

    /**
     * An output's values in a Java array. ONNX Runtime already copies them out of its own memory
     * into a heap buffer; its array is taken as it is instead of being copied a second time
     * (3 MB per batch of 64 reference images).
     */
    public static float[] floats(OnnxTensor tensor) throws OrtException {
        FloatBuffer buffer = tensor.getFloatBuffer();
        if (buffer.hasArray()
                && buffer.arrayOffset() == 0
                && buffer.position() == 0
                && buffer.remaining() == buffer.array().length) {
            return buffer.array();
        }
        float[] values = new float[buffer.remaining()];
        buffer.get(values);
        return values;
    }

    private record Key(String model, long version) {}

    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final Settings settings;
    private final Map<Key, OrtSession> sessions = new ConcurrentHashMap<>();

    public OnnxBackend(Settings settings) {
        this.settings = settings;
    }

    @Override
    public String name() {
        return "onnx";
    }

    /** The session of a model version, opening it when needed (also for warm-up). */
    public OrtSession session(ResolvedModel model) {
        return sessions.computeIfAbsent(new Key(model.name(), model.version()), k -> open(model));
    }

    private OrtSession open(ResolvedModel model) {
        Path file = model.modelFile();
        if (!Files.isRegularFile(file)) {
            throw new FailedPreconditionException("model '" + model.name() + "' version " + model.version() + " has no "
                    + file.getFileName() + " in " + model.versionDirectory());
        }
        try {
            OrtSession.SessionOptions options = new OrtSession.SessionOptions();
            if (settings.intraOpThreads() > 0) {
                options.setIntraOpNumThreads(settings.intraOpThreads());
            }
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            if (!settings.spinning()) {
                // Intra-op threads stop spinning when a run returns: in a service the cores between
                // runs belong to PNG encoding, Kafka and the next batch, not to busy-waiting. Within
                // a run they still spin between operators (force_spinning_stop rather than
                // allow_spinning 0): waking them again and again through the labeller's 83
                // operators cost 15% of its run time (docs/labelling-experiments.md).
                options.addConfigEntry("session.force_spinning_stop", "1");
            }
            if (settings.useCuda()) {
                try {
                    options.addCUDA(0);
                    LOG.info(() -> "model " + model.name() + ": CUDA execution provider");
                } catch (OrtException | UnsatisfiedLinkError | IllegalArgumentException e) {
                    LOG.info(() -> "model " + model.name() + ": no CUDA execution provider here (" + e.getMessage()
                            + "), running on the CPU");
                }
            }
            return env.createSession(file.toString(), options);
        } catch (OrtException e) {
            throw new FailedPreconditionException(
                    "model '" + model.name() + "' version " + model.version() + " cannot be loaded by ONNX Runtime: "
                            + e.getMessage(),
                    e);
        }
    }

    @Override
    public Map<String, FloatTensor> infer(ResolvedModel model, Map<String, FloatTensor> inputs, List<String> outputs) {
        OrtSession session = session(model);
        Map<String, OnnxTensor> feeds = new LinkedHashMap<>();
        try {
            for (var e : inputs.entrySet()) {
                if (!session.getInputNames().contains(e.getKey())) {
                    throw new InvalidArgumentException(
                            "inputs",
                            "model '" + model.name() + "' has no input '" + e.getKey() + "' (it has "
                                    + session.getInputNames() + ")");
                }
                feeds.put(
                        e.getKey(),
                        OnnxTensor.createTensor(
                                env,
                                FloatBuffer.wrap(e.getValue().data()),
                                e.getValue().shape()));
            }
            List<String> wanted = outputs.isEmpty() ? new ArrayList<>(session.getOutputNames()) : outputs;
            for (String name : wanted) {
                if (!session.getOutputNames().contains(name)) {
                    throw new InvalidArgumentException(
                            "outputs",
                            "model '" + model.name() + "' has no output '" + name + "' (it has "
                                    + session.getOutputNames() + ")");
                }
            }
            try (OrtSession.Result result = session.run(feeds, new HashSet<>(wanted))) {
                Map<String, FloatTensor> out = new LinkedHashMap<>();
                for (String name : wanted) {
                    OnnxTensor t = (OnnxTensor) result.get(name).orElseThrow();
                    out.put(name, new FloatTensor(t.getInfo().getShape(), floats(t)));
                }
                return out;
            }
        } catch (OrtException e) {
            throw new FailedPreconditionException(
                    "model '" + model.name() + "' failed in ONNX Runtime: " + e.getMessage(), e);
        } finally {
            feeds.values().forEach(OnnxTensor::close);
        }
    }

    @Override
    public void release(ResolvedModel model) {
        OrtSession s = sessions.remove(new Key(model.name(), model.version()));
        if (s != null) {
            try {
                s.close();
            } catch (OrtException e) {
                LOG.warning("closing the session of " + model.name() + ": " + e.getMessage());
            }
        }
    }

    @Override
    public void close() {
        for (OrtSession s : sessions.values()) {
            try {
                s.close();
            } catch (OrtException e) {
                LOG.warning("closing an ONNX Runtime session: " + e.getMessage());
            }
        }
        sessions.clear();
    }
}

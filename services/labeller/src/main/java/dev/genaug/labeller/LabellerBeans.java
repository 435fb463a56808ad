package dev.genaug.labeller;

import dev.genaug.domain.inference.InferenceBackend;
import dev.genaug.domain.jobs.CancelledJobs;
import dev.genaug.domain.labelling.Labelling;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.inference.FusedLabellerBackend;
import dev.genaug.inference.OnnxBackend;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import org.jboss.logging.Logger;

/** Wires the domain code of this service. */
public class LabellerBeans {
    private static final Logger LOG = Logger.getLogger(LabellerBeans.class);

    @Produces
    @Singleton
    Labelling labelling(ModelRepository repository, InferenceBackend backend, LabellerConfig config) {
        int threads = config.trainThreads() > 0
                ? config.trainThreads()
                : Runtime.getRuntime().availableProcessors();
        return new Labelling(repository, backend, new Labelling.Settings(config.maxLabel(), threads));
    }

    /** The generator and the labeller run here, side by side: feature maps never leave the process. */
    @Produces
    @Singleton
    InferenceBackend backend(LabellerConfig config) {
        OnnxBackend onnx = new OnnxBackend(new OnnxBackend.Settings(config.onnxThreads(), config.onnxCuda(), false));
        boolean onGpu = config.onnxCuda() && OnnxBackend.cudaAvailable();
        if (!config.fused() || onGpu) {
            return onnx;
        }
        if (!FusedLabellerBackend.available()) {
            LOG.info("labelling on ONNX Runtime: start the JVM with --add-modules jdk.incubator.vector for the"
                    + " fused kernel, about twice as fast");
            return onnx;
        }
        LOG.info("float labellers run on genaug's fused kernel (genaug.labeller.fused), the rest on ONNX Runtime");
        return new FusedLabellerBackend(onnx, config.onnxThreads());
    }

    void close(@Disposes InferenceBackend backend) {
        backend.close();
    }

    @Produces
    @Singleton
    CancelledJobs cancelledJobs() {
        return new CancelledJobs(CancelledJobs.DEFAULT_CAPACITY);
    }
}

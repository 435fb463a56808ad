package dev.genaug.domain.inference;

import dev.genaug.domain.repository.ResolvedModel;
import java.util.List;
import java.util.Map;

/**
 * Runs a model of the repository on a batch: ONNX Runtime in this process, or a Triton server over
 * KServe v2. Implementations are thread-safe.
 */
public interface InferenceBackend extends AutoCloseable {

    /**
     * Runs {@code model} once.
     *
     * @param inputs by input name; every tensor's first dimension is the batch
     * @param outputs output names to return (empty: all)
     * @return the requested outputs by name, batch-first
     * @throws dev.genaug.domain.error.UnavailableException when the runtime cannot be reached
     * @throws dev.genaug.domain.error.FailedPreconditionException when the model cannot be loaded
     */
    Map<String, FloatTensor> infer(ResolvedModel model, Map<String, FloatTensor> inputs, List<String> outputs);

    /** Frees what the backend holds for a model (its session), e.g. a scratch model about to be deleted. */
    default void release(ResolvedModel model) {}

    /** Short name for logs and metrics, e.g. "onnx" or "triton". */
    String name();

    @Override
    default void close() {}
}

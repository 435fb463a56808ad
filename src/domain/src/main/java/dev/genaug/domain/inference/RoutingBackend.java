package dev.genaug.domain.inference;

import dev.genaug.domain.repository.ResolvedModel;
import java.util.List;
import java.util.Map;

/** Chooses the backend per model by name; models not listed use the default. */
public final class RoutingBackend implements InferenceBackend {
    private final Map<String, InferenceBackend> byModel;
    private final InferenceBackend fallback;

    public RoutingBackend(Map<String, InferenceBackend> byModel, InferenceBackend fallback) {
        this.byModel = Map.copyOf(byModel);
        this.fallback = fallback;
    }

    /** The backend that serves {@code model}. */
    public InferenceBackend backendFor(String model) {
        return byModel.getOrDefault(model, fallback);
    }

    @Override
    public Map<String, FloatTensor> infer(ResolvedModel model, Map<String, FloatTensor> inputs, List<String> outputs) {
        return backendFor(model.name()).infer(model, inputs, outputs);
    }

    @Override
    public void release(ResolvedModel model) {
        backendFor(model.name()).release(model);
    }

    @Override
    public String name() {
        return "routing";
    }

    @Override
    public void close() {
        fallback.close();
        byModel.values().stream().distinct().filter(b -> b != fallback).forEach(InferenceBackend::close);
    }
}

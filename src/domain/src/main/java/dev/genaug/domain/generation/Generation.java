package dev.genaug.domain.generation;

import dev.genaug.api.events.v1.LatentBatch;
import dev.genaug.api.generator.v1.GenerateRequest;
import dev.genaug.api.generator.v1.GenerateResponse;
import dev.genaug.api.model.v1.FeatureOutput;
import dev.genaug.api.model.v1.ModelRole;
import dev.genaug.domain.error.CapabilityMissingException;
import dev.genaug.domain.error.InvalidArgumentException;
import dev.genaug.domain.repository.ModelChecks;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import dev.genaug.domain.tensor.LatentBatches;

/** Latents to images (and feature maps) through a generator model of the repository. */
public final class Generation {
    private final ModelRepository repository;
    private final int maxBatch;

    public Generation(ModelRepository repository, int maxBatch) {
        this.repository = repository;
        this.maxBatch = maxBatch;
    }

    /** Checks a request completely: model, latents, requested feature outputs. */
    public ResolvedModel validate(GenerateRequest request, int maxRows) {
        ResolvedModel model =
                ModelChecks.require(repository, request.getModel(), ModelRole.MODEL_ROLE_GENERATOR, "model");
        LatentBatches.validate(
                request.getLatents(), model.manifest().getLatent().getDimension(), maxRows, "latents");
        var known = model.manifest().getFeaturesList().stream()
                .map(FeatureOutput::getName)
                .toList();
        for (int i = 0; i < request.getFeatureOutputsCount(); i++) {
            String name = request.getFeatureOutputs(i);
            if (!known.contains(name)) {
                throw new InvalidArgumentException(
                        "feature_outputs[" + i + "]",
                        "'" + name + "' is not a feature output of '" + model.name() + "' (it has " + known + ")");
            }
        }
        return model;
    }

    public GenerateResponse generate(GenerateRequest request) {
        throw missingBackend(validate(request, maxBatch));
    }

    /** GenerateStream: no cap on N, since the response is streamed in chunks. */
    public GenerateResponse generateStream(GenerateRequest request) {
        throw missingBackend(validate(request, Integer.MAX_VALUE));
    }

    /** Handles one Kafka batch; throws what the job must fail with. */
    public void generate(LatentBatch batch) {
        ResolvedModel model =
                ModelChecks.require(repository, batch.getModel(), ModelRole.MODEL_ROLE_GENERATOR, "model");
        LatentBatches.validate(
                batch.getLatents(), model.manifest().getLatent().getDimension(), Integer.MAX_VALUE, "latents");
        throw missingBackend(model);
    }

    private static CapabilityMissingException missingBackend(ResolvedModel model) {
        return new CapabilityMissingException("the request is valid, but this build has no inference backend to run '"
                + model.name() + "' version " + model.version()
                + " (the ONNX Runtime and Triton backends come with the generation service)");
    }
}

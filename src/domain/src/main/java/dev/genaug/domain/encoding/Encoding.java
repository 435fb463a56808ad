package dev.genaug.domain.encoding;

import dev.genaug.api.encoder.v1.EncodeRequest;
import dev.genaug.api.encoder.v1.EncodeResponse;
import dev.genaug.api.model.v1.ModelRole;
import dev.genaug.domain.error.CapabilityMissingException;
import dev.genaug.domain.error.InvalidArgumentException;
import dev.genaug.domain.error.ResourceExhaustedException;
import dev.genaug.domain.repository.ModelChecks;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import dev.genaug.domain.tensor.ImageInputs;

/** Images to latents through an encoder model of the repository. */
public final class Encoding {
    private final ModelRepository repository;
    private final int maxImages;

    public Encoding(ModelRepository repository, int maxImages) {
        this.repository = repository;
        this.maxImages = maxImages;
    }

    public EncodeResponse encode(EncodeRequest request) {
        if (request.getImagesCount() == 0) {
            throw new InvalidArgumentException("images", "at least one image is needed");
        }
        if (request.getImagesCount() > maxImages) {
            throw new ResourceExhaustedException("images: " + request.getImagesCount()
                    + " images are above this service's cap of " + maxImages + " per request");
        }
        ResolvedModel model =
                ModelChecks.require(repository, request.getModel(), ModelRole.MODEL_ROLE_ENCODER, "model");
        for (int i = 0; i < request.getImagesCount(); i++) {
            ImageInputs.decode(request.getImages(i), model.manifest().getImage(), "images[" + i + "]");
        }
        throw new CapabilityMissingException(
                "Encode: the request is valid, but this build has no inference backend to run '"
                        + model.name() + "' version " + model.version()
                        + " (the ONNX Runtime and Triton backends come with the generation service)");
    }
}

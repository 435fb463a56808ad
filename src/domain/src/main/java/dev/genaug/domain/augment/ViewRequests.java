package dev.genaug.domain.augment;

import dev.genaug.api.gateway.v1.GetViewsRequest;
import dev.genaug.domain.error.CapabilityMissingException;
import dev.genaug.domain.error.InvalidArgumentException;
import dev.genaug.domain.error.ResourceExhaustedException;

/** Latent views of real images (GetViews). */
public final class ViewRequests {
    private final int maxViewsPerInput;
    private final int maxInputs;

    public ViewRequests(int maxViewsPerInput, int maxInputs) {
        this.maxViewsPerInput = maxViewsPerInput;
        this.maxInputs = maxInputs;
    }

    public void validate(GetViewsRequest r) {
        if (r.getModel().getName().isEmpty()) {
            throw new InvalidArgumentException("model.name", "must name a generator model");
        }
        boolean images = r.getImagesCount() > 0;
        boolean latents = r.getLatentsCount() > 0;
        if (images == latents) {
            throw new InvalidArgumentException(
                    images ? "latents" : "images",
                    images ? "give images or latents, not both" : "give at least one image or latent");
        }
        int inputs = images ? r.getImagesCount() : r.getLatentsCount();
        if (inputs > maxInputs) {
            throw new ResourceExhaustedException((images ? "images" : "latents") + ": " + inputs
                    + " inputs are above this gateway's cap of " + maxInputs + " per request");
        }
        if (r.getViewsPerInput() < 1) {
            throw new InvalidArgumentException("views_per_input", "must be >= 1, got " + r.getViewsPerInput());
        }
        if (r.getViewsPerInput() > maxViewsPerInput) {
            throw new InvalidArgumentException(
                    "views_per_input", r.getViewsPerInput() + " is above this gateway's cap of " + maxViewsPerInput);
        }
        if (!(r.getSigma() >= 0f) || Float.isInfinite(r.getSigma())) {
            throw new InvalidArgumentException("sigma", "must be finite and >= 0, got " + r.getSigma());
        }
    }

    public void getViews(GetViewsRequest request) {
        validate(request);
        throw new CapabilityMissingException("GetViews: the request is valid, but views need the encoder and the "
                + "generator's inference backends, which this build does not have yet");
    }
}

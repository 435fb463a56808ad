package dev.genaug.domain.labelling;

import dev.genaug.api.events.v1.LatentBatch;
import dev.genaug.api.labeller.v1.Annotation;
import dev.genaug.api.labeller.v1.LabelRequest;
import dev.genaug.api.labeller.v1.TrainRequest;
import dev.genaug.api.model.v1.ImageSpec;
import dev.genaug.api.model.v1.ModelRole;
import dev.genaug.domain.error.CapabilityMissingException;
import dev.genaug.domain.error.FailedPreconditionException;
import dev.genaug.domain.error.InvalidArgumentException;
import dev.genaug.domain.repository.ModelChecks;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import dev.genaug.domain.tensor.ChwImage;
import dev.genaug.domain.tensor.ImageCodec;
import dev.genaug.domain.tensor.ImageInputs;
import dev.genaug.domain.tensor.LatentBatches;

/** DatasetGAN-style labelling: training a labeller from annotations, and applying it. */
public final class Labelling {
    private final ModelRepository repository;

    public Labelling(ModelRepository repository) {
        this.repository = repository;
    }

    /** Checks a training request completely, naming the offending annotation. */
    public ResolvedModel validate(TrainRequest request) {
        if (request.getLabellerName().isEmpty()) {
            throw new InvalidArgumentException("labeller_name", "must name the labeller to register");
        }
        if (request.getAnnotationsCount() == 0) {
            throw new InvalidArgumentException("annotations", "at least one annotated image is needed");
        }
        int classes = request.getClassNamesCount();
        if (classes < 2 || classes > 255) {
            throw new InvalidArgumentException("class_names", "must hold 2 to 255 names, got " + classes);
        }
        ResolvedModel generator =
                ModelChecks.require(repository, request.getGenerator(), ModelRole.MODEL_ROLE_GENERATOR, "generator");
        ImageSpec spec = generator.manifest().getImage();
        int dimension = generator.manifest().getLatent().getDimension();
        for (int i = 0; i < request.getAnnotationsCount(); i++) {
            Annotation a = request.getAnnotations(i);
            String field = "annotations[" + i + "]";
            switch (a.getSourceCase()) {
                case LATENT -> {
                    if (a.getLatent().getValuesCount() != dimension) {
                        throw new InvalidArgumentException(
                                field + ".latent",
                                "has " + a.getLatent().getValuesCount()
                                        + " values, the generator's latent dimension is " + dimension);
                    }
                    for (float v : a.getLatent().getValuesList()) {
                        if (!Float.isFinite(v)) {
                            throw new InvalidArgumentException(field + ".latent", "holds a non-finite value " + v);
                        }
                    }
                }
                case IMAGE -> ImageInputs.decode(a.getImage(), spec, field + ".image");
                case SOURCE_NOT_SET -> throw new InvalidArgumentException(field, "needs a latent or an image");
            }
            ChwImage mask = ImageCodec.decodePng(a.getLabelPng().toByteArray(), 0f, 255f, field + ".label_png");
            if (mask.channels() != 1) {
                throw new InvalidArgumentException(
                        field + ".label_png", "must be single-channel, has " + mask.channels());
            }
            if (mask.width() != spec.getWidth() || mask.height() != spec.getHeight()) {
                throw new InvalidArgumentException(
                        field + ".label_png",
                        "is " + mask.width() + "x" + mask.height() + ", the generator's images are " + spec.getWidth()
                                + "x" + spec.getHeight());
            }
            for (float v : mask.pixels()) {
                if (v >= classes) {
                    throw new InvalidArgumentException(
                            field + ".label_png",
                            "holds class id " + (int) v + " but there are only " + classes + " class names");
                }
            }
        }
        return generator;
    }

    public void train(TrainRequest request) {
        ResolvedModel generator = validate(request);
        throw new CapabilityMissingException("Train: the request is valid, but this build cannot train labellers yet "
                + "(it needs the generator's feature maps from an inference backend for '" + generator.name() + "')");
    }

    public void label(LabelRequest request) {
        ResolvedModel labeller =
                ModelChecks.require(repository, request.getLabeller(), ModelRole.MODEL_ROLE_LABELLER, "labeller");
        String own = labeller.manifest().getPairedGenerator();
        String named = request.getGenerator().getName();
        if (!named.isEmpty() && !named.equals(own)) {
            throw new FailedPreconditionException("generator: labeller '" + labeller.name() + "' was trained for '"
                    + own + "', not for '" + named + "'");
        }
        ResolvedModel generator = ModelChecks.require(
                repository,
                request.getGenerator().toBuilder().setName(own).build(),
                ModelRole.MODEL_ROLE_GENERATOR,
                "generator");
        LatentBatches.validate(
                request.getLatents(), generator.manifest().getLatent().getDimension(), Integer.MAX_VALUE, "latents");
        throw missingBackend(labeller);
    }

    /** Handles one Kafka batch of a labelled job; throws what the job must fail with. */
    public void label(LatentBatch batch) {
        ResolvedModel labeller =
                ModelChecks.require(repository, batch.getLabeller(), ModelRole.MODEL_ROLE_LABELLER, "labeller");
        throw missingBackend(labeller);
    }

    private static CapabilityMissingException missingBackend(ResolvedModel labeller) {
        return new CapabilityMissingException("Label: this build cannot run labeller '" + labeller.name()
                + "' yet (it needs the generator's feature maps from an inference backend)");
    }
}

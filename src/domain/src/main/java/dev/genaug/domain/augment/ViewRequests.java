package dev.genaug.domain.augment;

import dev.genaug.api.common.v1.Image;
import dev.genaug.api.common.v1.ModelRef;
import dev.genaug.api.gateway.v1.GetViewsRequest;
import dev.genaug.api.gateway.v1.InputViews;
import dev.genaug.api.gateway.v1.ViewBatch;
import dev.genaug.api.model.v1.ModelRole;
import dev.genaug.domain.error.InvalidArgumentException;
import dev.genaug.domain.error.ResourceExhaustedException;
import dev.genaug.domain.repository.ModelChecks;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import dev.genaug.domain.sampling.LatentOperator;
import dev.genaug.domain.sampling.Neighbours;
import dev.genaug.domain.sampling.Provenances;
import dev.genaug.domain.tensor.Tensors;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Latent views of real images (GetViews): encode, draw neighbours, decode. The encoder and
 * generator are ports, served over gRPC by their services in a deployment.
 */
public final class ViewRequests {
    /** Images to latents (posterior means), with the paired encoder of a generator. */
    public interface LatentEncoder {
        /**
         * @return row-major [images, d]
         * @throws InvalidArgumentException naming {@code images[i]} relative to the list given
         */
        float[] encode(ModelRef encoder, List<Image> images);
    }

    /** Latents to PNG images with a generator. */
    public interface ImageDecoder {
        List<Image> decode(ModelRef generator, float[] latents, int rows, int dimension);
    }

    /** The radius calibrated for the class of an anchor (the sampler's calibrated neighbours). */
    public interface CalibratedRadius {
        float sigma(ModelRef generator, float[] anchor);
    }

    /** Provenance parameter of views of images: the encoder that made the anchor, "name/version". */
    public static final String ENCODER_PARAMETER = "encoder";

    private final ModelRepository repository;
    private final int maxViewsPerInput;
    private final int maxInputs;
    private final int maxDecodeRows;

    /**
     * @param maxDecodeRows latents per decode call; a batch of the stream holds as many inputs as fit
     */
    public ViewRequests(ModelRepository repository, int maxViewsPerInput, int maxInputs, int maxDecodeRows) {
        this.repository = repository;
        this.maxViewsPerInput = maxViewsPerInput;
        this.maxInputs = maxInputs;
        this.maxDecodeRows = maxDecodeRows;
    }

    /** Views per input the request asks for (pairs mode: 2). */
    static int views(GetViewsRequest r) {
        return r.getPairs() ? 2 : r.getViewsPerInput();
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
        if (r.getPairs() && r.getViewsPerInput() != 0 && r.getViewsPerInput() != 2) {
            throw new InvalidArgumentException(
                    "views_per_input", "must be 0 or 2 in pairs mode, got " + r.getViewsPerInput());
        }
        if (views(r) < 1) {
            throw new InvalidArgumentException("views_per_input", "must be >= 1, got " + r.getViewsPerInput());
        }
        if (views(r) > maxViewsPerInput) {
            throw new InvalidArgumentException(
                    "views_per_input", views(r) + " is above this gateway's cap of " + maxViewsPerInput);
        }
        if (!(r.getSigma() >= 0f) || Float.isInfinite(r.getSigma())) {
            throw new InvalidArgumentException("sigma", "must be finite and >= 0, got " + r.getSigma());
        }
        if (r.getCalibratedSigma() && r.getSigma() != 0f) {
            throw new InvalidArgumentException("sigma", "must be 0 when calibrated_sigma is set, got " + r.getSigma());
        }
        if (r.getShape() == dev.genaug.api.sampler.v1.NeighbourhoodShape.UNRECOGNIZED) {
            throw new InvalidArgumentException("shape", "unknown value " + r.getShapeValue());
        }
    }

    /**
     * Validates the request and the model, encodes image inputs, then returns the batches lazily:
     * each is decoded only when the caller asks for it. {@code radius} gives the radii of
     * calibrated_sigma.
     */
    public Iterator<ViewBatch> views(
            GetViewsRequest r, LatentEncoder encoder, ImageDecoder decoder, CalibratedRadius radius) {
        validate(r);
        ResolvedModel generator =
                ModelChecks.require(repository, r.getModel(), ModelRole.MODEL_ROLE_GENERATOR, "model");
        int d = generator.manifest().getLatent().getDimension();
        ModelRef generatorRef = generator.ref();
        int inputs = r.getImagesCount() > 0 ? r.getImagesCount() : r.getLatentsCount();
        float[] anchors = new float[inputs * d];
        // Which encoder version made the anchors, for the views' provenance; null for latent inputs.
        ModelRef anchorEncoder = null;
        if (r.getImagesCount() > 0) {
            ResolvedModel enc = ModelChecks.requireEncoderOf(
                    repository, generator, "images", "to encode images with; give latents instead");
            anchorEncoder = enc.ref();
            float[] means = encoder.encode(enc.ref(), r.getImagesList());
            if (means.length != anchors.length) {
                throw new IllegalStateException(
                        "the encoder returned " + means.length / Math.max(1, d) + " latents for " + inputs + " images");
            }
            System.arraycopy(means, 0, anchors, 0, anchors.length);
        } else {
            for (int i = 0; i < inputs; i++) {
                float[] z = LatentOperator.latent(r.getLatents(i).getValuesList(), d, "latents[" + i + "]");
                System.arraycopy(z, 0, anchors, i * d, d);
            }
        }
        int views = views(r);
        boolean originals = !r.getPairs();
        int rowsPerInput = views + (originals ? 1 : 0);
        int inputsPerBatch = Math.max(1, maxDecodeRows / rowsPerInput);
        ModelRef encoderUsed = anchorEncoder;
        return new Iterator<>() {
            int next = 0;

            @Override
            public boolean hasNext() {
                return next < inputs;
            }

            @Override
            public ViewBatch next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                int first = next;
                int count = Math.min(inputsPerBatch, inputs - first);
                next += count;
                return batch(r, generatorRef, encoderUsed, anchors, d, first, count, views, originals, decoder, radius);
            }
        };
    }

    private static ViewBatch batch(
            GetViewsRequest r,
            ModelRef generator,
            ModelRef encoder,
            float[] anchors,
            int d,
            int first,
            int count,
            int views,
            boolean originals,
            ImageDecoder decoder,
            CalibratedRadius radius) {
        int rowsPerInput = views + (originals ? 1 : 0);
        float[] latents = new float[count * rowsPerInput * d];
        Neighbours[] operators = new Neighbours[count];
        for (int i = 0; i < count; i++) {
            float[] anchor = Arrays.copyOfRange(anchors, (first + i) * d, (first + i + 1) * d);
            float sigma = r.getCalibratedSigma() ? radius.sigma(generator, anchor) : r.getSigma();
            operators[i] = Neighbours.create(anchor, r.getShape(), sigma, 0f, "");
            int row = i * rowsPerInput;
            if (originals) {
                System.arraycopy(anchor, 0, latents, row * d, d);
                row++;
            }
            for (int k = 0; k < views; k++) {
                operators[i].pointInto(r.getSeed(), (long) (first + i) * views + k, latents, (row + k) * d);
            }
        }
        List<Image> images = decoder.decode(generator, latents, count * rowsPerInput, d);
        ViewBatch.Builder batch = ViewBatch.newBuilder().setFirstInput(first);
        for (int i = 0; i < count; i++) {
            InputViews.Builder in = InputViews.newBuilder();
            int row = i * rowsPerInput;
            if (originals) {
                in.setOriginal(images.get(row));
                row++;
            }
            in.addAllViews(images.subList(row, row + views));
            in.setLatents(Tensors.fp32(Arrays.copyOfRange(latents, row * d, (row + views) * d), views, d));
            java.util.Map<String, String> parameters = operators[i].parameters();
            if (encoder != null) {
                parameters.put(ENCODER_PARAMETER, encoder.getName() + "/" + encoder.getVersion());
            }
            for (int k = 0; k < views; k++) {
                in.addProvenance(Provenances.of(
                        generator.getName(),
                        Long.parseLong(generator.getVersion()),
                        r.getSeed(),
                        (long) (first + i) * views + k,
                        Neighbours.OPERATOR,
                        parameters));
            }
            batch.addInputs(in);
        }
        return batch.build();
    }
}

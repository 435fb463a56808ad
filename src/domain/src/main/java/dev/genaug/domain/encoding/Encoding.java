package dev.genaug.domain.encoding;

import dev.genaug.api.encoder.v1.EncodeRequest;
import dev.genaug.api.encoder.v1.EncodeResponse;
import dev.genaug.api.model.v1.ImageSpec;
import dev.genaug.api.model.v1.ModelManifest;
import dev.genaug.api.model.v1.ModelRole;
import dev.genaug.domain.error.CancelledException;
import dev.genaug.domain.error.InvalidArgumentException;
import dev.genaug.domain.error.ResourceExhaustedException;
import dev.genaug.domain.inference.FloatTensor;
import dev.genaug.domain.inference.InferenceBackend;
import dev.genaug.domain.repository.ModelChecks;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import dev.genaug.domain.tensor.ChwImage;
import dev.genaug.domain.tensor.ImageInputs;
import dev.genaug.domain.tensor.Tensors;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/** Images to latents through an encoder model of the repository. */
public final class Encoding {
    private final ModelRepository repository;
    private final InferenceBackend backend;
    private final int maxImages;

    private final int maxRefineEvaluations;

    public Encoding(ModelRepository repository, InferenceBackend backend, int maxImages) {
        this(repository, backend, maxImages, 2000);
    }

    /** @param maxRefineEvaluations largest refine_evaluations accepted */
    public Encoding(ModelRepository repository, InferenceBackend backend, int maxImages, int maxRefineEvaluations) {
        this.repository = repository;
        this.backend = backend;
        this.maxImages = maxImages;
        this.maxRefineEvaluations = maxRefineEvaluations;
    }

    /**
     * Posterior means of images already in the encoder's input range, [rows, d]: the one place
     * that knows an encoder's tensor names and input layout.
     *
     * @param images [rows, C, H, W] of the encoder's image spec
     */
    public static float[] means(InferenceBackend backend, ResolvedModel encoder, float[] images, int rows) {
        ModelManifest manifest = encoder.manifest();
        ImageSpec spec = manifest.getImage();
        String mean = manifest.getTensorsOrDefault("mean", "mu");
        return backend.infer(
                        encoder,
                        Map.of(
                                manifest.getTensorsOrDefault("image", "image"),
                                new FloatTensor(
                                        new long[] {rows, spec.getChannels(), spec.getHeight(), spec.getWidth()},
                                        images)),
                        List.of(mean))
                .get(mean)
                .data();
    }

    public EncodeResponse encode(EncodeRequest request) {
        if (request.getImagesCount() == 0) {
            throw new InvalidArgumentException("images", "at least one image is needed");
        }
        if (request.getImagesCount() > maxImages) {
            throw new ResourceExhaustedException("images: " + request.getImagesCount()
                    + " images are above this service's cap of " + maxImages + " per request");
        }
        if (request.getRefineEvaluations() > maxRefineEvaluations) {
            throw new ResourceExhaustedException("refine_evaluations: " + request.getRefineEvaluations()
                    + " is above this service's cap of " + maxRefineEvaluations + " per image");
        }
        ResolvedModel model =
                ModelChecks.require(repository, request.getModel(), ModelRole.MODEL_ROLE_ENCODER, "model");
        ModelManifest manifest = model.manifest();
        ImageSpec spec = manifest.getImage();
        int n = request.getImagesCount();
        int per = spec.getChannels() * spec.getHeight() * spec.getWidth();
        float[] batch = new float[n * per];
        for (int i = 0; i < n; i++) {
            ChwImage image = ImageInputs.decode(request.getImages(i), spec, "images[" + i + "]");
            System.arraycopy(image.pixels(), 0, batch, i * per, per);
        }
        String input = manifest.getTensorsOrDefault("image", "image");
        String mean = manifest.getTensorsOrDefault("mean", "mu");
        String logVariance = manifest.getTensorsOrDefault("log_variance", "");
        List<String> outputs = new ArrayList<>(List.of(mean));
        if (!logVariance.isEmpty()) {
            outputs.add(logVariance);
        }
        Map<String, FloatTensor> out = backend.infer(
                model,
                Map.of(
                        input,
                        new FloatTensor(new long[] {n, spec.getChannels(), spec.getHeight(), spec.getWidth()}, batch)),
                outputs);
        EncodeResponse.Builder response = EncodeResponse.newBuilder()
                .setModel(model.ref())
                .setMean(Tensors.fp32(out.get(mean).data(), out.get(mean).shape()));
        if (!logVariance.isEmpty()) {
            response.setLogVariance(Tensors.fp32(
                    out.get(logVariance).data(), out.get(logVariance).shape()));
        }
        if (request.getRefineEvaluations() > 0) {
            refine(request, model, out.get(mean), batch, response);
        }
        return response.build();
    }

    private void refine(
            EncodeRequest request,
            ResolvedModel encoder,
            FloatTensor means,
            float[] images,
            EncodeResponse.Builder response) {
        ResolvedModel generator =
                ModelChecks.requireGeneratorOf(repository, encoder, "refine_evaluations", "to decode with");
        Refined refined = refine(
                backend, generator, means.data(), images, means.rows(), request.getRefineEvaluations(), 0, () -> false);
        for (int i = 0; i < means.rows(); i++) {
            response.addErrorBefore((float) refined.before()[i]).addErrorAfter((float) refined.after()[i]);
        }
        response.setRefined(Tensors.fp32(refined.latents(), means.shape()));
    }

    /**
     * Refined latents with each image's reconstruction error (mean squared, pixels in the
     * generator's range) before and after.
     *
     * @param latents [rows, d]
     */
    public record Refined(float[] latents, double[] before, double[] after) {}

    /**
     * Refines latents so that the generator's decodes come closer to the images: CMA-ES from each
     * latent within {@code evaluations} generator runs per image, image i's search seeded with
     * {@code firstIndex + i}. The best latent seen is kept, so no error grows.
     *
     * @param latents starting latents, [rows, d] (an encoder's posterior means)
     * @param images the images in the generator's range, [rows, C, H, W]
     * @param firstIndex index of the first image in the caller's whole list (0 for a request)
     * @param cancelled polled before each image; true abandons the refinement
     */
    public static Refined refine(
            InferenceBackend backend,
            ResolvedModel generator,
            float[] latents,
            float[] images,
            int rows,
            int evaluations,
            long firstIndex,
            BooleanSupplier cancelled) {
        int d = latents.length / rows;
        int per = images.length / rows;
        Refinement refinement = new Refinement(backend, generator);
        float[] refined = new float[rows * d];
        double[] before = new double[rows];
        double[] after = new double[rows];
        for (int i = 0; i < rows; i++) {
            if (cancelled.getAsBoolean()) {
                throw new CancelledException("refinement was cancelled");
            }
            Refinement.Result r = refinement.refine(
                    java.util.Arrays.copyOfRange(latents, i * d, (i + 1) * d),
                    java.util.Arrays.copyOfRange(images, i * per, (i + 1) * per),
                    evaluations,
                    firstIndex + i);
            System.arraycopy(r.latent(), 0, refined, i * d, d);
            before[i] = r.before();
            after[i] = r.after();
        }
        return new Refined(refined, before, after);
    }
}

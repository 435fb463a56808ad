package dev.genaug.domain.generation;

import com.google.protobuf.UnsafeByteOperations;
import dev.genaug.api.common.v1.Image;
import dev.genaug.api.events.v1.GeneratedBatch;
import dev.genaug.api.events.v1.LatentBatch;
import dev.genaug.api.generator.v1.GenerateRequest;
import dev.genaug.api.generator.v1.GenerateResponse;
import dev.genaug.api.generator.v1.ImageEncoding;
import dev.genaug.api.model.v1.FeatureOutput;
import dev.genaug.api.model.v1.ModelManifest;
import dev.genaug.api.model.v1.ModelRole;
import dev.genaug.domain.error.InvalidArgumentException;
import dev.genaug.domain.inference.AlignedRuns;
import dev.genaug.domain.inference.FloatTensor;
import dev.genaug.domain.inference.InferenceBackend;
import dev.genaug.domain.repository.ModelChecks;
import dev.genaug.domain.repository.ModelHashes;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import dev.genaug.domain.tensor.LatentBatches;
import dev.genaug.domain.tensor.Tensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/** Latents to images (and feature maps) through a generator model of the repository. */
public final class Generation {
    private final ModelRepository repository;
    private final InferenceBackend backend;
    private final int maxBatch;
    private final int defaultChunk;
    private final ModelHashes hashes = new ModelHashes();

    /**
     * @param maxBatch most latents per Generate call
     * @param defaultChunk samples per GenerateStream response when the request does not say
     */
    public Generation(ModelRepository repository, InferenceBackend backend, int maxBatch, int defaultChunk) {
        this.repository = repository;
        this.backend = backend;
        this.maxBatch = maxBatch;
        this.defaultChunk = defaultChunk;
    }

    /** A request that passed validation, with its latents decoded. */
    public record Checked(ResolvedModel model, float[] latents, int rows, int dimension) {}

    /** Checks a request completely: model, latents, encoding, requested feature outputs. */
    public Checked validate(GenerateRequest request, int maxRows) {
        ResolvedModel model =
                ModelChecks.require(repository, request.getModel(), ModelRole.MODEL_ROLE_GENERATOR, "model");
        int dimension = model.manifest().getLatent().getDimension();
        float[] latents = LatentBatches.validate(request.getLatents(), dimension, maxRows, "latents");
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
        if (request.getImageEncoding() == ImageEncoding.UNRECOGNIZED) {
            throw new InvalidArgumentException("image_encoding", "unknown value " + request.getImageEncodingValue());
        }
        if (request.getImageEncoding() == ImageEncoding.IMAGE_ENCODING_NONE && request.getFeatureOutputsCount() == 0) {
            throw new InvalidArgumentException("image_encoding", "NONE without feature_outputs asks for nothing");
        }
        return new Checked(model, latents, latents.length / dimension, dimension);
    }

    public GenerateResponse generate(GenerateRequest request) {
        Checked checked = validate(request, maxBatch);
        return run(checked, 0, checked.rows(), request);
    }

    /**
     * GenerateStream: no cap on N. Validates at once, then returns the responses lazily, each of at
     * most chunk_size samples, in order: a chunk is generated only when the caller asks for it, so
     * memory stays bounded by the chunk and a caller that stops pulling stops the work.
     */
    public Iterator<GenerateResponse> generateStream(GenerateRequest request) {
        Checked checked = validate(request, Integer.MAX_VALUE);
        int chunk = request.getChunkSize() > 0 ? request.getChunkSize() : defaultChunk;
        return new Iterator<>() {
            int next = 0;

            @Override
            public boolean hasNext() {
                return next < checked.rows();
            }

            @Override
            public GenerateResponse next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                int start = next;
                int count = Math.min(chunk, checked.rows() - start);
                next += count;
                return run(checked, start, count, request);
            }
        };
    }

    private GenerateResponse run(Checked c, int start, int count, GenerateRequest request) {
        ModelManifest manifest = c.model().manifest();
        String imageName = manifest.getTensorsOrDefault("image", "image");
        List<String> outputs = new ArrayList<>();
        boolean wantImage = request.getImageEncoding() != ImageEncoding.IMAGE_ENCODING_NONE;
        if (wantImage) {
            outputs.add(imageName);
        }
        outputs.addAll(request.getFeatureOutputsList());
        Map<String, FloatTensor> out = infer(
                c.model(),
                Arrays.copyOfRange(c.latents(), start * c.dimension(), (start + count) * c.dimension()),
                count,
                c.dimension(),
                outputs);
        GenerateResponse.Builder response =
                GenerateResponse.newBuilder().setModel(c.model().ref()).setOffset(start);
        if (wantImage) {
            GeneratedOutputs.addImages(response, out.get(imageName), request.getImageEncoding(), manifest.getImage());
        }
        for (String feature : request.getFeatureOutputsList()) {
            FloatTensor f = out.get(feature);
            response.putFeatures(feature, Tensors.fp32(f.data(), f.shape()));
        }
        return response.build();
    }

    private Map<String, FloatTensor> infer(
            ResolvedModel model, float[] latents, int rows, int dimension, List<String> outputs) {
        String latentName = model.manifest().getTensorsOrDefault("latent", "z");
        return backend.infer(
                model, Map.of(latentName, new FloatTensor(new long[] {rows, dimension}, latents)), outputs);
    }

    /** Generates one Kafka batch as PNG images; throws what the job must fail with. */
    public GeneratedBatch generate(LatentBatch batch) {
        ResolvedModel model =
                ModelChecks.require(repository, batch.getModel(), ModelRole.MODEL_ROLE_GENERATOR, "model");
        int dimension = model.manifest().getLatent().getDimension();
        float[] latents = LatentBatches.validate(batch.getLatents(), dimension, Integer.MAX_VALUE, "latents");
        int rows = latents.length / dimension;
        if (rows != batch.getRange().getCount()) {
            throw new InvalidArgumentException(
                    "latents.shape[0]",
                    rows + " latents for a range of " + batch.getRange().getCount());
        }
        String imageName = model.manifest().getTensorsOrDefault("image", "image");
        // Padded runs: a sample's image is that of its latent, whatever the job's batch size.
        FloatTensor images = AlignedRuns.infer(
                        backend,
                        model,
                        model.manifest().getTensorsOrDefault("latent", "z"),
                        latents,
                        rows,
                        dimension,
                        List.of(imageName))
                .get(imageName);
        GeneratedBatch.Builder out = GeneratedBatch.newBuilder()
                .setJobId(batch.getJobId())
                .setRange(batch.getRange())
                .addAllProvenance(batch.getProvenanceList())
                .setJob(batch.getJob())
                .setModel(model.ref())
                .setModelSha256(hashes.sha256(model));
        for (byte[] png : GeneratedOutputs.pngs(images, model.manifest().getImage())) {
            out.addImages(Image.newBuilder()
                    .setPng(UnsafeByteOperations.unsafeWrap(png))
                    .setChannels((int) images.shape()[1])
                    .setHeight((int) images.shape()[2])
                    .setWidth((int) images.shape()[3]));
        }
        return out.build();
    }
}

package dev.genaug.domain.sampling;

import dev.genaug.api.common.v1.ModelRef;
import dev.genaug.api.events.v1.DatasetJob;
import dev.genaug.api.events.v1.LatentBatch;
import dev.genaug.api.model.v1.ModelRole;
import dev.genaug.api.sampler.v1.FitDirectionsRequest;
import dev.genaug.api.sampler.v1.FitDirectionsResponse;
import dev.genaug.api.sampler.v1.SampleRequest;
import dev.genaug.api.sampler.v1.SampleResponse;
import dev.genaug.domain.error.InvalidArgumentException;
import dev.genaug.domain.error.ResourceExhaustedException;
import dev.genaug.domain.inference.InferenceBackend;
import dev.genaug.domain.repository.ModelChecks;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import dev.genaug.domain.tensor.Tensors;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/** Latent operators over the counter-based stream, for requests and for dataset jobs. */
public final class Sampling {
    private final ModelRepository repository;
    private final int maxCount;
    private final int defaultBatchSize;

    /**
     * @param maxCount largest count of one Sample request
     * @param defaultBatchSize samples per LatentBatch when a job does not say
     */
    public Sampling(ModelRepository repository, int maxCount, int defaultBatchSize) {
        this(repository, maxCount, defaultBatchSize, null, 0);
    }

    /**
     * @param backend runs generators for operators that need them (MaGNET); null: none here
     * @param maxPool largest MaGNET pool
     */
    public Sampling(
            ModelRepository repository, int maxCount, int defaultBatchSize, InferenceBackend backend, int maxPool) {
        this.repository = repository;
        this.maxCount = maxCount;
        this.defaultBatchSize = defaultBatchSize;
        this.backend = backend;
        this.maxPool = maxPool;
    }

    private final InferenceBackend backend;
    private final int maxPool;
    /** Weighed MaGNET pools, the most recently used few (weighing one costs (d + 1) x pool decodes). */
    private final Map<List<Object>, Magnet> pools =
            java.util.Collections.synchronizedMap(new LinkedHashMap<>(8, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<List<Object>, Magnet> eldest) {
                    return size() > 4;
                }
            });

    public SampleResponse sample(SampleRequest request) {
        if (request.getCount() < 1) {
            throw new InvalidArgumentException("count", "must be >= 1");
        }
        if (request.getCount() > maxCount) {
            throw new ResourceExhaustedException("count: " + request.getCount() + " is above this service's cap of "
                    + maxCount + " latents per request");
        }
        if (request.getOperatorCase() == SampleRequest.OperatorCase.OPERATOR_NOT_SET) {
            throw new InvalidArgumentException(
                    "operator", "must be set (prior, neighbours, interpolation, walk or magnet)");
        }
        String modelName = "";
        long version = 0;
        int dimension;
        if (request.hasModel() && !request.getModel().getName().isEmpty()) {
            ResolvedModel model =
                    ModelChecks.require(repository, request.getModel(), ModelRole.MODEL_ROLE_GENERATOR, "model");
            dimension = model.manifest().getLatent().getDimension();
            if (request.getLatentDimension() != 0 && request.getLatentDimension() != dimension) {
                throw new InvalidArgumentException(
                        "latent_dimension",
                        "is " + request.getLatentDimension() + " but model '" + model.name() + "' has dimension "
                                + dimension + " (leave it 0)");
            }
            modelName = model.name();
            version = model.version();
        } else if (request.getLatentDimension() > 0) {
            dimension = request.getLatentDimension();
        } else {
            throw new InvalidArgumentException("model", "name a model, or set latent_dimension");
        }
        LatentOperator operator = switch (request.getOperatorCase()) {
            case MAGNET -> magnet(request);
            case NEIGHBOURS ->
                request.getNeighbours().getCalibrated()
                        ? calibratedNeighbours(request, dimension)
                        : operator(request, dimension);
            default -> operator(request, dimension);
        };
        long steps = operator.length();
        if (Long.compareUnsigned(request.getStartIndex(), steps) >= 0
                || request.getStartIndex() + request.getCount() > steps) {
            throw new InvalidArgumentException(
                    "count",
                    "start_index " + Long.toUnsignedString(request.getStartIndex()) + " + count " + request.getCount()
                            + " goes past the operator's " + steps + " steps");
        }
        float[] latents = operator.points(request.getSeed(), request.getStartIndex(), request.getCount());
        SampleResponse.Builder response =
                SampleResponse.newBuilder().setLatents(Tensors.fp32(latents, request.getCount(), dimension));
        for (int i = 0; i < request.getCount(); i++) {
            response.addProvenance(Provenances.of(
                    modelName,
                    version,
                    request.getSeed(),
                    request.getStartIndex() + i,
                    operator.name(),
                    operator.parameters()));
        }
        return response.build();
    }

    /** FitDirections: PCA or an attribute direction of the given latents. */
    public FitDirectionsResponse fitDirections(FitDirectionsRequest request) {
        int dimension = 0;
        if (request.hasModel() && !request.getModel().getName().isEmpty()) {
            dimension = ModelChecks.require(repository, request.getModel(), ModelRole.MODEL_ROLE_GENERATOR, "model")
                    .manifest()
                    .getLatent()
                    .getDimension();
        }
        return Directions.fit(request, dimension, maxCount);
    }

    private Neighbours calibratedNeighbours(SampleRequest r, int d) {
        if (!r.hasModel() || r.getModel().getName().isEmpty()) {
            throw new InvalidArgumentException("model", "a calibrated sigma needs the generator it was calibrated for");
        }
        if (r.getNeighbours().getSigma() != 0f) {
            throw new InvalidArgumentException("neighbours.sigma", "must be 0 when neighbours.calibrated is set");
        }
        if (backend == null) {
            throw new dev.genaug.domain.error.CapabilityMissingException(
                    "neighbours.calibrated: this sampler has no inference backend to judge the anchor with");
        }
        ResolvedModel model = ModelChecks.require(repository, r.getModel(), ModelRole.MODEL_ROLE_GENERATOR, "model");
        dev.genaug.api.model.v1.RadiusCalibration calibration =
                Calibrations.readMadeWith(model, "neighbours.calibrated");
        ResolvedModel classifier = ModelChecks.require(
                repository,
                ModelRef.newBuilder().setName(calibration.getClassifier()).build(),
                ModelRole.MODEL_ROLE_CLASSIFIER,
                "calibration.classifier");
        float[] anchor = LatentOperator.latent(r.getNeighbours().getAnchor().getValuesList(), d, "neighbours.anchor");
        int cls = new Judge(backend, model, classifier).classes(anchor, 1)[0];
        double sigma = RadiusCalibrator.sigmaOf(calibration, cls)
                .orElseThrow(() -> new dev.genaug.domain.error.FailedPreconditionException(
                        "neighbours.calibrated: the calibration of '" + model.name() + "' has no radius for class "
                                + cls));
        return Neighbours.create(
                anchor,
                r.getNeighbours().getShape(),
                (float) sigma,
                r.getNeighbours().getTruncationPsi(),
                "neighbours.");
    }

    private Magnet magnet(SampleRequest r) {
        if (!r.hasModel() || r.getModel().getName().isEmpty()) {
            throw new InvalidArgumentException("model", "MaGNET needs the generator whose manifold it samples");
        }
        if (backend == null) {
            throw new dev.genaug.domain.error.CapabilityMissingException(
                    "magnet: this sampler has no inference backend to run the generator with");
        }
        ResolvedModel model = ModelChecks.require(repository, r.getModel(), ModelRole.MODEL_ROLE_GENERATOR, "model");
        int d = model.manifest().getLatent().getDimension();
        int pool = r.getMagnet().getPoolSize() == 0 ? 4096 : r.getMagnet().getPoolSize();
        if (pool > maxPool) {
            throw new ResourceExhaustedException(
                    "magnet.pool_size: " + pool + " is above this service's cap of " + maxPool);
        }
        int topK = r.getMagnet().getTopK() == 0 ? d : r.getMagnet().getTopK();
        float epsilon = r.getMagnet().getEpsilon() == 0f ? 0.01f : r.getMagnet().getEpsilon();
        // Empty and the image's own name are the same manifold: one cached pool.
        String image = model.manifest().getTensorsOrDefault("image", "image");
        String manifold =
                r.getMagnet().getManifold().equals(image) ? "" : r.getMagnet().getManifold();
        List<Object> key = List.of(model.name(), model.version(), r.getSeed(), pool, topK, epsilon, manifold);
        Magnet cached = pools.get(key);
        if (cached != null) {
            return cached;
        }
        Magnet built = Magnet.build(backend, model, r.getSeed(), pool, topK, epsilon, manifold, 8, "magnet.");
        pools.put(key, built);
        return built;
    }

    private static LatentOperator operator(SampleRequest r, int d) {
        return switch (r.getOperatorCase()) {
            case PRIOR ->
                PriorSampler.create(
                        d, r.getPrior().getTruncationPsi(), r.getPrior().getTruncationThreshold(), "prior.");
            case NEIGHBOURS ->
                Neighbours.create(
                        LatentOperator.latent(r.getNeighbours().getAnchor().getValuesList(), d, "neighbours.anchor"),
                        r.getNeighbours().getShape(),
                        r.getNeighbours().getSigma(),
                        r.getNeighbours().getTruncationPsi(),
                        "neighbours.");
            case INTERPOLATION ->
                Interpolation.create(
                        LatentOperator.latent(r.getInterpolation().getFrom().getValuesList(), d, "interpolation.from"),
                        LatentOperator.latent(r.getInterpolation().getTo().getValuesList(), d, "interpolation.to"),
                        r.getInterpolation().getSteps(),
                        r.getInterpolation().getMethod(),
                        "interpolation.");
            case WALK ->
                Walk.create(
                        LatentOperator.latent(r.getWalk().getOrigin().getValuesList(), d, "walk.origin"),
                        r.getWalk().getDirectionsList(),
                        r.getWalk().getAlphaMin(),
                        r.getWalk().getAlphaMax(),
                        r.getWalk().getSteps(),
                        "walk.");
            case MAGNET -> throw new IllegalStateException("MaGNET is built with the generator");
            case OPERATOR_NOT_SET ->
                throw new InvalidArgumentException(
                        "operator", "must be set (prior, neighbours, interpolation, walk or magnet)");
        };
    }

    /**
     * Validates a job and returns its latent batches, drawn lazily one at a time.
     *
     * @throws dev.genaug.domain.error.GenaugException what the job must fail with
     */
    public Iterator<LatentBatch> plan(DatasetJob job) {
        if (job.getCount() < 1) {
            throw new InvalidArgumentException("job.count", "must be >= 1");
        }
        ResolvedModel model;
        ModelRef labeller = null;
        if (job.hasLabeller() && !job.getLabeller().getName().isEmpty()) {
            // Both pinned, so every batch of the job is labelled by the same versions: the labeller's
            // and the generator version it was trained on.
            ModelChecks.LabelledPair pair = ModelChecks.requireLabelledPair(
                    repository, job.getModel(), "job.model", job.getLabeller(), "job.labeller");
            model = pair.generator();
            labeller = pair.labeller().ref();
        } else {
            model = ModelChecks.require(repository, job.getModel(), ModelRole.MODEL_ROLE_GENERATOR, "job.model");
        }
        int dimension = model.manifest().getLatent().getDimension();
        PriorSampler sampler = PriorSampler.create(dimension, job.getTruncationPsi(), 0f, "job.");
        int batchSize = job.getBatchSize() > 0 ? job.getBatchSize() : defaultBatchSize;
        ModelRef resolved = model.ref();
        ModelRef pinnedLabeller = labeller;
        long total = job.getCount();
        return new Iterator<>() {
            long next = 0;

            @Override
            public boolean hasNext() {
                return next < total;
            }

            @Override
            public LatentBatch next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                int count = (int) Math.min(batchSize, total - next);
                long start = next;
                next += count;
                LatentBatch.Builder b = LatentBatch.newBuilder()
                        .setJobId(job.getJobId())
                        .setRange(dev.genaug.api.common.v1.SampleRange.newBuilder()
                                .setStart(start)
                                .setCount(count))
                        .setModel(resolved)
                        .setJob(job)
                        .setLatents(Tensors.fp32(sampler.sample(job.getSeed(), start, count), count, dimension));
                if (pinnedLabeller != null) {
                    b.setLabeller(pinnedLabeller);
                }
                for (int i = 0; i < count; i++) {
                    b.addProvenance(Provenances.of(
                            model.name(),
                            model.version(),
                            job.getSeed(),
                            start + i,
                            PriorSampler.OPERATOR,
                            sampler.parameters()));
                }
                return b.build();
            }
        };
    }
}

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
import dev.genaug.domain.repository.ModelChecks;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import dev.genaug.domain.tensor.Tensors;
import java.util.Iterator;
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
        this.repository = repository;
        this.maxCount = maxCount;
        this.defaultBatchSize = defaultBatchSize;
    }

    public SampleResponse sample(SampleRequest request) {
        if (request.getCount() < 1) {
            throw new InvalidArgumentException("count", "must be >= 1");
        }
        if (request.getCount() > maxCount) {
            throw new ResourceExhaustedException("count: " + request.getCount() + " is above this service's cap of "
                    + maxCount + " latents per request");
        }
        if (request.getOperatorCase() == SampleRequest.OperatorCase.OPERATOR_NOT_SET) {
            throw new InvalidArgumentException("operator", "must be set (prior, neighbours, interpolation or walk)");
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
        LatentOperator operator = operator(request, dimension);
        long steps = switch (operator) {
            case Interpolation i -> i.steps();
            case Walk w -> w.steps();
            default -> Long.MAX_VALUE;
        };
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
            case OPERATOR_NOT_SET ->
                throw new InvalidArgumentException(
                        "operator", "must be set (prior, neighbours, interpolation or walk)");
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
        ResolvedModel model =
                ModelChecks.require(repository, job.getModel(), ModelRole.MODEL_ROLE_GENERATOR, "job.model");
        int dimension = model.manifest().getLatent().getDimension();
        PriorSampler sampler = PriorSampler.create(dimension, job.getTruncationPsi(), 0f, "job.");
        int batchSize = job.getBatchSize() > 0 ? job.getBatchSize() : defaultBatchSize;
        ModelRef resolved = ModelRef.newBuilder()
                .setName(model.name())
                .setVersion(Long.toString(model.version()))
                .build();
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
                if (job.hasLabeller() && !job.getLabeller().getName().isEmpty()) {
                    b.setLabeller(job.getLabeller());
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

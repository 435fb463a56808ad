package dev.genaug.domain.jobs;

import dev.genaug.api.events.v1.DatasetJob;
import dev.genaug.api.model.v1.ModelRole;
import dev.genaug.domain.error.InvalidArgumentException;
import dev.genaug.domain.error.ResourceExhaustedException;
import dev.genaug.domain.repository.ModelChecks;
import dev.genaug.domain.repository.ModelRepository;
import java.util.regex.Pattern;

/**
 * Checks a submitted job spec, naming the offending field of SubmitJobRequest: its settings, then
 * that its generator (and labeller, for a labelled job) are in the model repository and fit
 * together, so that a job that cannot run is refused at submission rather than failing once queued.
 * The sampler checks the models again when it plans the job (a model may be removed meanwhile).
 */
public final class DatasetJobValidator {
    private static final Pattern TOPIC = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

    private final long maxCount;
    private final ModelRepository repository;

    /**
     * @param maxCount largest accepted job, in samples
     * @param repository the models jobs may name
     */
    public DatasetJobValidator(long maxCount, ModelRepository repository) {
        this.maxCount = maxCount;
        this.repository = repository;
    }

    /**
     * @throws dev.genaug.domain.error.GenaugException INVALID_ARGUMENT, RESOURCE_EXHAUSTED, NOT_FOUND
     *     (a model or version not in the repository) or FAILED_PRECONDITION (a model of another
     *     role, a labeller of another generator or generator version), naming the field
     */
    public void validate(DatasetJob job) {
        if (!job.getJobId().isEmpty()) {
            throw new InvalidArgumentException("job.job_id", "must be empty: the gateway assigns it");
        }
        if (job.getModel().getName().isEmpty()) {
            throw new InvalidArgumentException("job.model.name", "must name a generator model");
        }
        if (job.getCount() < 1) {
            throw new InvalidArgumentException("job.count", "must be >= 1, got " + job.getCount());
        }
        if (Long.compareUnsigned(job.getCount(), maxCount) > 0) {
            throw new ResourceExhaustedException("job.count: " + Long.toUnsignedString(job.getCount())
                    + " is above this gateway's cap of " + maxCount + " samples per job");
        }
        float psi = job.getTruncationPsi();
        if (!(psi == 0f || (psi > 0f && psi <= 1f))) {
            throw new InvalidArgumentException("job.truncation_psi", "must be in (0, 1] (0 means 1), got " + psi);
        }
        if (job.hasDropFraction()) {
            float f = job.getDropFraction();
            if (!(f >= 0f && f < 1f)) {
                throw new InvalidArgumentException("job.drop_fraction", "must be in [0, 1), got " + f);
            }
            requireLabeller(job, "job.drop_fraction");
        }
        if (job.hasIgnoreBelowConfidence()) {
            float c = job.getIgnoreBelowConfidence();
            if (!(c > 0f && c <= 1f)) {
                throw new InvalidArgumentException("job.ignore_below_confidence", "must be in (0, 1], got " + c);
            }
            requireLabeller(job, "job.ignore_below_confidence");
        }
        if (!job.getOutputTopic().isEmpty()
                && !TOPIC.matcher(job.getOutputTopic()).matches()) {
            throw new InvalidArgumentException(
                    "job.output_topic",
                    "must be a legal Kafka topic name (letters, digits, '.', '_', '-'), got '" + job.getOutputTopic()
                            + "'");
        }
        if (job.getLabeller().getName().isEmpty()) {
            ModelChecks.require(repository, job.getModel(), ModelRole.MODEL_ROLE_GENERATOR, "job.model");
        } else {
            ModelChecks.requireLabelledPair(repository, job.getModel(), "job.model", job.getLabeller(), "job.labeller");
        }
    }

    /** A setting of labelled jobs needs the job to name a labeller. */
    private static void requireLabeller(DatasetJob job, String field) {
        if (job.getLabeller().getName().isEmpty()) {
            throw new InvalidArgumentException(field, "applies to labelled jobs only: set job.labeller");
        }
    }
}

package dev.genaug.generator;

import dev.genaug.api.events.v1.JobProgress;
import dev.genaug.domain.generation.Generation;
import dev.genaug.domain.jobs.CancelledJobs;
import dev.genaug.service.KafkaPayloads;
import dev.genaug.service.LatentBatchStage;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.annotations.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Kafka adapter: generates each LatentBatch of an unlabelled job into a GeneratedBatch, keyed like
 * its input. The input is acknowledged only after the output is, so a crash redelivers it (and the
 * same latents give the same images). A batch that cannot be generated fails its job with the reason.
 */
@ApplicationScoped
public class LatentBatchConsumer {
    static final String STAGE = "generator";

    private final Generation generation;
    private final CancelledJobs stops;
    private final LatentBatchStage stage;

    @Inject
    LatentBatchConsumer(
            Generation generation,
            CancelledJobs stops,
            @Channel("generated") MutinyEmitter<byte[]> generated,
            @Channel("progress") MutinyEmitter<byte[]> progress) {
        this.generation = generation;
        this.stops = stops;
        this.stage = new LatentBatchStage(STAGE, stops, generated, progress);
    }

    @Incoming("latents")
    @Blocking(value = "generation", ordered = false)
    public void onBatch(byte[] payload) {
        stage.process(payload, generation::generate);
    }

    /** Cancellations and failures, from every stage, on the progress topic. */
    @Incoming("stops")
    public void onProgress(byte[] payload) {
        KafkaPayloads.parse(payload, JobProgress.parser(), "JobProgress").ifPresent(stops::apply);
    }
}

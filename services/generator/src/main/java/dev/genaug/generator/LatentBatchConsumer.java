package dev.genaug.generator;

import dev.genaug.api.events.v1.GeneratedBatch;
import dev.genaug.api.events.v1.JobProgress;
import dev.genaug.api.events.v1.LatentBatch;
import dev.genaug.domain.error.GenaugException;
import dev.genaug.domain.generation.Generation;
import dev.genaug.domain.jobs.CancelledJobs;
import dev.genaug.domain.jobs.ProgressReports;
import dev.genaug.domain.sampling.SampleRange;
import dev.genaug.service.KafkaPayloads;
import dev.genaug.service.KafkaRecords;
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

    @Inject
    Generation generation;

    @Inject
    CancelledJobs stops;

    @Inject
    @Channel("generated")
    MutinyEmitter<byte[]> generated;

    @Inject
    @Channel("progress")
    MutinyEmitter<byte[]> progress;

    @Incoming("latents")
    @Blocking(value = "generation", ordered = false)
    public void onBatch(byte[] payload) {
        KafkaPayloads.parse(payload, LatentBatch.parser(), "LatentBatch").ifPresent(batch -> {
            if (stops.stopped(batch.getJobId())) {
                return; // cancelled or failed: the rest of its batches are dropped
            }
            GeneratedBatch out;
            try {
                out = generation.generate(batch);
            } catch (GenaugException e) {
                progress.sendMessageAndAwait(KafkaRecords.keyed(
                        batch.getJobId(),
                        ProgressReports.failed(batch.getJobId(), batch.getRange(), STAGE, e.getMessage())));
                stops.stop(batch.getJobId());
                return;
            }
            generated.sendMessageAndAwait(KafkaRecords.keyed(
                    SampleRange.recordKey(batch.getJobId(), batch.getRange().getStart()), out));
        });
    }

    /** Cancellations and failures, from every stage, on the progress topic. */
    @Incoming("stops")
    public void onProgress(byte[] payload) {
        KafkaPayloads.parse(payload, JobProgress.parser(), "JobProgress").ifPresent(stops::apply);
    }
}

package dev.genaug.labeller;

import dev.genaug.api.events.v1.GeneratedBatch;
import dev.genaug.api.events.v1.JobProgress;
import dev.genaug.api.events.v1.LatentBatch;
import dev.genaug.domain.error.GenaugException;
import dev.genaug.domain.jobs.CancelledJobs;
import dev.genaug.domain.jobs.ProgressReports;
import dev.genaug.domain.labelling.Labelling;
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
 * Kafka adapter: generates and labels each LatentBatch of a labelled job in this process (the
 * feature maps never cross Kafka) and emits it as a GeneratedBatch with masks, keyed like its
 * input, acknowledged only after the output is. A batch that cannot be labelled fails its job with
 * the reason on the progress topic.
 */
@ApplicationScoped
public class LabelledBatchConsumer {
    static final String STAGE = "labeller";

    @Inject
    Labelling labelling;

    @Inject
    CancelledJobs stops;

    @Inject
    @Channel("labelled")
    MutinyEmitter<byte[]> labelled;

    @Inject
    @Channel("progress")
    MutinyEmitter<byte[]> progress;

    @Incoming("latents-labelled")
    @Blocking(value = "labelling", ordered = false)
    public void onBatch(byte[] payload) {
        KafkaPayloads.parse(payload, LatentBatch.parser(), "LatentBatch").ifPresent(batch -> {
            if (stops.stopped(batch.getJobId())) {
                return;
            }
            GeneratedBatch out;
            try {
                out = labelling.label(batch);
            } catch (GenaugException e) {
                progress.sendMessageAndAwait(KafkaRecords.keyed(
                        batch.getJobId(),
                        ProgressReports.failed(batch.getJobId(), batch.getRange(), STAGE, e.getMessage())));
                stops.stop(batch.getJobId());
                return;
            }
            labelled.sendMessageAndAwait(KafkaRecords.keyed(
                    SampleRange.recordKey(batch.getJobId(), batch.getRange().getStart()), out));
        });
    }

    /** Cancellations and failures, from every stage, on the progress topic. */
    @Incoming("stops")
    public void onProgress(byte[] payload) {
        KafkaPayloads.parse(payload, JobProgress.parser(), "JobProgress").ifPresent(stops::apply);
    }
}

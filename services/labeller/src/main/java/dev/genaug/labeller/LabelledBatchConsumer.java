package dev.genaug.labeller;

import dev.genaug.api.events.v1.JobProgress;
import dev.genaug.domain.jobs.CancelledJobs;
import dev.genaug.domain.labelling.Labelling;
import dev.genaug.service.KafkaPayloads;
import dev.genaug.service.LatentBatchStage;
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

    private final Labelling labelling;
    private final CancelledJobs stops;
    private final LatentBatchStage stage;

    @Inject
    LabelledBatchConsumer(
            Labelling labelling,
            CancelledJobs stops,
            @Channel("labelled") MutinyEmitter<byte[]> labelled,
            @Channel("progress") MutinyEmitter<byte[]> progress) {
        this.labelling = labelling;
        this.stops = stops;
        this.stage = new LatentBatchStage(STAGE, stops, labelled, progress);
    }

    @Incoming("latents-labelled")
    @Blocking(value = "labelling", ordered = false)
    public void onBatch(byte[] payload) {
        stage.process(payload, labelling::label);
    }

    /** Cancellations and failures, from every stage, on the progress topic. */
    @Incoming("stops")
    public void onProgress(byte[] payload) {
        KafkaPayloads.parse(payload, JobProgress.parser(), "JobProgress").ifPresent(stops::apply);
    }
}

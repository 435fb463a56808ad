package dev.genaug.service;

import dev.genaug.api.events.v1.GeneratedBatch;
import dev.genaug.api.events.v1.LatentBatch;
import dev.genaug.domain.error.GenaugException;
import dev.genaug.domain.jobs.CancelledJobs;
import dev.genaug.domain.jobs.ProgressReports;
import dev.genaug.domain.sampling.SampleRange;
import io.smallrye.reactive.messaging.MutinyEmitter;
import java.util.function.Function;

/**
 * A job stage that turns each LatentBatch into a GeneratedBatch (the generator's, the labeller's).
 * A batch of a stopped job is dropped; one the domain refuses fails its job with the reason on the
 * progress topic and stops it here; otherwise the output is sent keyed like the input and awaited,
 * so the caller acknowledges the input only after its output is written (a crash redelivers it).
 */
public final class LatentBatchStage {
    private final String stage;
    private final CancelledJobs stops;
    private final MutinyEmitter<byte[]> output;
    private final MutinyEmitter<byte[]> progress;

    /**
     * @param stage the stage's name in progress reports
     * @param stops the jobs cancelled or failed, as this instance has seen them
     */
    public LatentBatchStage(
            String stage, CancelledJobs stops, MutinyEmitter<byte[]> output, MutinyEmitter<byte[]> progress) {
        this.stage = stage;
        this.stops = stops;
        this.output = output;
        this.progress = progress;
    }

    /** Parses one record's payload (an unreadable one is logged and skipped) and runs it through {@code work}. */
    public void process(byte[] payload, Function<LatentBatch, GeneratedBatch> work) {
        KafkaPayloads.parse(payload, LatentBatch.parser(), "LatentBatch").ifPresent(batch -> {
            if (stops.stopped(batch.getJobId())) {
                return; // cancelled or failed: the rest of its batches are dropped
            }
            GeneratedBatch out;
            try {
                out = work.apply(batch);
            } catch (GenaugException e) {
                progress.sendMessageAndAwait(KafkaRecords.keyed(
                        batch.getJobId(),
                        ProgressReports.failed(batch.getJobId(), batch.getRange(), stage, e.getMessage())));
                stops.stop(batch.getJobId());
                return;
            }
            output.sendMessageAndAwait(KafkaRecords.keyed(
                    SampleRange.recordKey(batch.getJobId(), batch.getRange().getStart()), out));
        });
    }
}

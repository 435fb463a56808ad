package dev.genaug.gateway;

import dev.genaug.api.dataset.v1.StreamedSample;
import dev.genaug.api.events.v1.DatasetJob;
import dev.genaug.api.events.v1.GeneratedBatch;
import dev.genaug.domain.dataset.DatasetWriter;
import dev.genaug.domain.error.GenaugException;
import dev.genaug.domain.jobs.CancelledJobs;
import dev.genaug.domain.jobs.ProgressReports;
import dev.genaug.domain.sampling.SampleRange;
import dev.genaug.service.KafkaPayloads;
import dev.genaug.service.KafkaRecords;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.annotations.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Kafka adapter of the dataset writer: stages each GeneratedBatch into its job's shards, publishes
 * the samples on the job's output topic when it names one, and reports the job's progress (read
 * from its folder, so several writers report the same count). A batch is acknowledged only after
 * it is on disk; a batch that cannot be written fails its job with the reason.
 */
@ApplicationScoped
public class SampleWriter {
    private static final Logger LOG = Logger.getLogger(SampleWriter.class);
    static final String STAGE = "writer";
    /** Jobs whose last report time is remembered at once (a cache: cleared when it grows past). */
    private static final int REMEMBERED_JOBS = 1024;

    // Job id -> System.nanoTime() of the job's last progress report.
    private final ConcurrentHashMap<String, Long> lastReport = new ConcurrentHashMap<>();

    @Inject
    DatasetWriter writer;

    @Inject
    CancelledJobs stops;

    @Inject
    JobEvents events;

    @Inject
    GatewayConfig config;

    @Inject
    @Channel("samples")
    MutinyEmitter<byte[]> samples;

    @Incoming("generated")
    @Blocking(value = "writing", ordered = false)
    public void onBatch(byte[] payload) {
        GeneratedBatch batch = KafkaPayloads.parse(payload, GeneratedBatch.parser(), "GeneratedBatch")
                .orElse(null);
        if (batch == null || stops.stopped(batch.getJobId())) {
            return;
        }
        DatasetWriter.Written written;
        try {
            written = writer.write(batch);
        } catch (GenaugException | UncheckedIOException e) {
            String reason = "cannot write samples " + batch.getRange().getStart() + ".."
                    + (batch.getRange().getStart() + batch.getRange().getCount() - 1) + ": " + e.getMessage();
            LOG.errorf("job %s: %s", batch.getJobId(), reason);
            stops.stop(batch.getJobId());
            events.report(
                    ProgressReports.failed(batch.getJobId(), batch.getRange(), STAGE, reason), config.enqueueTimeout());
            return;
        }
        DatasetJob job = batch.getJob();
        if (!job.getOutputTopic().isEmpty()) {
            publish(batch, job.getOutputTopic());
        }
        if (written.finished()) {
            lastReport.remove(job.getJobId());
            events.report(ProgressReports.running(job.getJobId(), STAGE, job.getCount()), config.enqueueTimeout());
            LOG.infof("job %s: %d samples written to %s", job.getJobId(), job.getCount(), written.output());
        } else if (reportDue(job.getJobId())) {
            // Counted from the folder, so every writer of the job reports the same figure. Below the
            // job's count until the manifest is written: only the finishing report says "done".
            long done = Math.min(writer.progress(job).samplesDone(), job.getCount() - 1);
            events.report(ProgressReports.running(job.getJobId(), STAGE, done), config.enqueueTimeout());
        }
    }

    /**
     * At most one report per job and progress interval: every report is a Kafka record that every
     * stage's instances read, and counting from the folder costs a look per unfinished shard.
     */
    private boolean reportDue(String jobId) {
        if (lastReport.size() > REMEMBERED_JOBS) {
            lastReport.clear(); // jobs cancelled or failed mid-way never finish here
        }
        long now = System.nanoTime();
        Long last = lastReport.get(jobId);
        if (last != null && now - last < config.progressInterval().toNanos()) {
            return false;
        }
        // Of writers racing for the same report, only the one whose swap succeeds sends it.
        return last == null ? lastReport.putIfAbsent(jobId, now) == null : lastReport.replace(jobId, last, now);
    }

    /** The batch's samples as the shards hold them: a labelled job's kept ones, with their masks. */
    private void publish(GeneratedBatch batch, String topic) {
        boolean labelled = batch.getMasksCount() > 0;
        List<Uni<Void>> sends = new ArrayList<>();
        for (int i = 0; i < batch.getRange().getCount(); i++) {
            if (labelled && batch.getDropped(i)) {
                continue; // the uncertainty filter's decision, as in the shards
            }
            long index = batch.getRange().getStart() + i;
            StreamedSample.Builder sample = StreamedSample.newBuilder()
                    .setJobId(batch.getJobId())
                    .setIndex(index)
                    .setImage(batch.getImages(i))
                    .setMetadata(DatasetWriter.metadata(batch, i));
            if (labelled) {
                sample.setMask(batch.getMasks(i)).addAllClassNames(batch.getClassNamesList());
            }
            sends.add(samples.sendMessage(
                    KafkaRecords.keyed(SampleRange.recordKey(batch.getJobId(), index), sample.build(), topic)));
        }
        Uni.join().all(sends).andFailFast().await().atMost(config.enqueueTimeout());
    }
}

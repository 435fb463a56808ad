package dev.genaug.sampler;

import dev.genaug.api.events.v1.DatasetJob;
import dev.genaug.api.events.v1.JobProgress;
import dev.genaug.api.events.v1.LatentBatch;
import dev.genaug.domain.error.GenaugException;
import dev.genaug.domain.jobs.CancelledJobs;
import dev.genaug.domain.jobs.ProgressReports;
import dev.genaug.domain.sampling.SampleRange;
import dev.genaug.domain.sampling.Sampling;
import dev.genaug.service.KafkaPayloads;
import dev.genaug.service.KafkaRecords;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.annotations.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Kafka adapter: each DatasetJob becomes LatentBatch records (to the labelled topic when the job
 * names a labeller) plus JobProgress reports. The job record is acknowledged only after every
 * batch is acknowledged by the broker, so a crash mid-job redelivers the job and the batches are
 * redrawn identically (the stream is keyed by seed and sample index).
 */
@ApplicationScoped
public class JobSplitter {
    private static final Logger LOG = Logger.getLogger(JobSplitter.class);
    static final String STAGE = "sampler";

    @Inject
    Sampling sampling;

    @Inject
    SamplerConfig config;

    @Inject
    CancelledJobs stops;

    @Inject
    @Channel("latents")
    MutinyEmitter<byte[]> latents;

    @Inject
    @Channel("latents-labelled")
    MutinyEmitter<byte[]> labelledLatents;

    @Inject
    @Channel("progress")
    MutinyEmitter<byte[]> progress;

    @Incoming("jobs")
    @Blocking(ordered = false)
    public void onJob(byte[] payload) {
        DatasetJob job =
                KafkaPayloads.parse(payload, DatasetJob.parser(), "DatasetJob").orElse(null);
        if (job == null) {
            return;
        }
        if (job.getJobId().isEmpty()) {
            LOG.error("dropping a DatasetJob without job_id");
            return;
        }
        if (stops.stopped(job.getJobId())) {
            LOG.infof("job %s was stopped before it was split; skipped", job.getJobId());
            return;
        }
        Iterator<LatentBatch> batches;
        try {
            batches = sampling.plan(job);
        } catch (GenaugException e) {
            report(ProgressReports.failed(job.getJobId(), STAGE, e.getMessage()));
            return;
        }
        report(ProgressReports.running(job.getJobId(), STAGE, 0));
        boolean labelled = job.hasLabeller() && !job.getLabeller().getName().isEmpty();
        MutinyEmitter<byte[]> out = labelled ? labelledLatents : latents;
        long sent = 0;
        List<Uni<Void>> window = new ArrayList<>();
        while (batches.hasNext()) {
            if (stops.stopped(job.getJobId())) {
                await(window);
                LOG.infof("job %s stopped (cancelled or failed) after %d samples sent", job.getJobId(), sent);
                return;
            }
            LatentBatch batch = batches.next();
            window.add(out.sendMessage(KafkaRecords.keyed(
                    SampleRange.recordKey(job.getJobId(), batch.getRange().getStart()), batch)));
            sent += batch.getRange().getCount();
            if (window.size() >= config.sendWindow()) {
                await(window);
            }
        }
        await(window);
        report(ProgressReports.running(job.getJobId(), STAGE, sent));
        LOG.infof("job %s: %d samples sent as latent batches", job.getJobId(), sent);
    }

    private static void await(List<Uni<Void>> window) {
        if (!window.isEmpty()) {
            // On a worker thread (@Blocking): waiting here applies back-pressure to the job.
            Uni.join().all(window).andFailFast().await().indefinitely();
            window.clear();
        }
    }

    /** Cancellations and failures, from every stage, on the progress topic. */
    @Incoming("stops")
    public void onProgress(byte[] payload) {
        KafkaPayloads.parse(payload, JobProgress.parser(), "JobProgress").ifPresent(stops::apply);
    }

    private void report(JobProgress report) {
        progress.sendMessageAndAwait(KafkaRecords.keyed(report.getJobId(), report));
    }
}

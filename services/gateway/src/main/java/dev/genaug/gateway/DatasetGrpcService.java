package dev.genaug.gateway;

import dev.genaug.api.events.v1.DatasetJob;
import dev.genaug.api.events.v1.JobProgress;
import dev.genaug.api.events.v1.JobState;
import dev.genaug.api.gateway.v1.CancelJobRequest;
import dev.genaug.api.gateway.v1.DatasetService;
import dev.genaug.api.gateway.v1.JobStatus;
import dev.genaug.api.gateway.v1.ListJobsRequest;
import dev.genaug.api.gateway.v1.ListJobsResponse;
import dev.genaug.api.gateway.v1.SubmitJobRequest;
import dev.genaug.api.gateway.v1.SubmitJobResponse;
import dev.genaug.api.gateway.v1.WatchJobRequest;
import dev.genaug.domain.dataset.DatasetWriter;
import dev.genaug.domain.error.InvalidArgumentException;
import dev.genaug.domain.error.UnavailableException;
import dev.genaug.domain.jobs.DatasetJobValidator;
import dev.genaug.domain.jobs.JobTracker;
import dev.genaug.domain.jobs.ProgressReports;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.inject.Inject;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.jboss.logging.Logger;

/** gRPC adapter of dataset jobs: validates and enqueues them, and reports what the stages say. */
@GrpcService
public class DatasetGrpcService implements DatasetService {
    private static final Logger LOG = Logger.getLogger(DatasetGrpcService.class);
    static final String STAGE = "gateway";

    @Inject
    JobTracker tracker;

    @Inject
    DatasetJobValidator validator;

    @Inject
    GatewayConfig config;

    @Inject
    JobEvents events;

    @Inject
    DatasetWriter writer;

    @Inject
    OutputTopics outputTopics;

    @Override
    @Blocking
    public Uni<SubmitJobResponse> submitJob(SubmitJobRequest request) {
        return Uni.createFrom().item(() -> {
            if (!request.hasJob()) {
                throw new InvalidArgumentException("job", "must be set");
            }
            validator.validate(request.getJob());
            DatasetJob job = request.getJob().toBuilder()
                    .setJobId(UUID.randomUUID().toString())
                    .setSubmittedAtMs(System.currentTimeMillis())
                    .build();
            // The folder is checked and fixed now (an absolute path), so every writer agrees on it.
            job = job.toBuilder().setOutput(writer.prepare(job).toString()).build();
            if (!job.getOutputTopic().isEmpty()) {
                outputTopics.ensure(job.getOutputTopic());
            }
            // Tracked before it is sent, so that no report of a fast stage arrives for an unknown job.
            JobStatus queued = tracker.submitted(job);
            try {
                events.enqueue(job, config.enqueueTimeout());
            } catch (RuntimeException e) {
                String reason = "gateway: the job could not be enqueued on Kafka: " + e.getMessage();
                tracker.apply(ProgressReports.failed(job.getJobId(), STAGE, reason));
                LOG.warn(reason, e);
                throw new UnavailableException(
                        "Kafka did not accept the job within " + config.enqueueTimeout() + "; it was not started (job "
                                + job.getJobId() + ")",
                        e);
            }
            return SubmitJobResponse.newBuilder()
                    .setJobId(job.getJobId())
                    .setStatus(queued)
                    .build();
        });
    }

    @Override
    public Multi<JobStatus> watchJob(WatchJobRequest request) {
        return Multi.createFrom().emitter(emitter -> {
            AtomicReference<AutoCloseable> handle = new AtomicReference<>();
            AtomicBoolean terminated = new AtomicBoolean();
            emitter.onTermination(() -> {
                terminated.set(true);
                close(handle.get());
            });
            try {
                handle.set(tracker.watch(request.getJobId(), status -> {
                    emitter.emit(status);
                    if (JobTracker.ended(status.getState())) {
                        emitter.complete();
                    }
                }));
                // The stream may have ended (job already over, caller gone) before the handle was set.
                if (terminated.get()) {
                    close(handle.get());
                }
            } catch (RuntimeException e) {
                emitter.fail(e);
            }
        });
    }

    private static void close(AutoCloseable handle) {
        if (handle != null) {
            try {
                handle.close();
            } catch (Exception e) {
                LOG.debug("closing a job watch", e);
            }
        }
    }

    @Override
    @Blocking
    public Uni<JobStatus> cancelJob(CancelJobRequest request) {
        return Uni.createFrom().item(() -> {
            JobStatus current = tracker.status(request.getJobId());
            DatasetWriter.Progress written = writer.progress(current.getJob());
            JobStatus status = tracker.cancel(
                    request.getJobId(),
                    "cancelled with " + written.samplesDone() + " of "
                            + current.getJob().getCount()
                            + " samples written (" + written.shardsDone() + " complete shards) in "
                            + written.output());
            if (status.getState() == JobState.JOB_STATE_CANCELLED) {
                // Tells the stages; they stop working on the job's remaining batches.
                JobProgress cancelled = ProgressReports.cancelled(request.getJobId(), STAGE, status.getSamplesDone());
                events.report(cancelled, config.enqueueTimeout());
            }
            return status;
        });
    }

    @Override
    public Uni<ListJobsResponse> listJobs(ListJobsRequest request) {
        return Uni.createFrom()
                .item(() -> ListJobsResponse.newBuilder()
                        .addAllJobs(tracker.list((int) Math.min(Integer.MAX_VALUE, request.getLimit())))
                        .build());
    }
}

package dev.genaug.domain.jobs;

import dev.genaug.api.common.v1.SampleRange;
import dev.genaug.api.events.v1.JobProgress;
import dev.genaug.api.events.v1.JobState;

/** The JobProgress reports stages publish, built the same way everywhere. */
public final class ProgressReports {
    private ProgressReports() {}

    /** A stage is working on the job and has finished {@code done} samples so far. */
    public static JobProgress running(String jobId, String stage, long done) {
        return base(jobId, stage, JobState.JOB_STATE_RUNNING)
                .setSamplesDone(done)
                .build();
    }

    /** A stage gives up on the job for the whole job. */
    public static JobProgress failed(String jobId, String stage, String reason) {
        return base(jobId, stage, JobState.JOB_STATE_FAILED).setMessage(reason).build();
    }

    /** A stage gives up on one batch of the job, which fails the job. */
    public static JobProgress failed(String jobId, SampleRange range, String stage, String reason) {
        return base(jobId, stage, JobState.JOB_STATE_FAILED)
                .setRange(range)
                .setMessage(reason)
                .build();
    }

    /** The job was cancelled on request; {@code done} samples were finished. */
    public static JobProgress cancelled(String jobId, String stage, long done) {
        return base(jobId, stage, JobState.JOB_STATE_CANCELLED)
                .setSamplesDone(done)
                .build();
    }

    private static JobProgress.Builder base(String jobId, String stage, JobState state) {
        return JobProgress.newBuilder()
                .setJobId(jobId)
                .setStage(stage)
                .setState(state)
                .setReportedAtMs(System.currentTimeMillis());
    }
}

package dev.genaug.domain.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.genaug.api.common.v1.ModelRef;
import dev.genaug.api.events.v1.DatasetJob;
import dev.genaug.api.events.v1.JobProgress;
import dev.genaug.api.events.v1.JobState;
import dev.genaug.api.gateway.v1.JobStatus;
import dev.genaug.domain.error.NotFoundException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class JobTrackerTest {
    private final AtomicLong now = new AtomicLong(1_000);
    private final JobTracker tracker = new JobTracker(now::get);

    private static DatasetJob job(String id, long count) {
        return DatasetJob.newBuilder()
                .setJobId(id)
                .setModel(ModelRef.newBuilder().setName("g"))
                .setCount(count)
                .build();
    }

    private static JobProgress progress(String id, String stage, JobState state, long done) {
        return JobProgress.newBuilder()
                .setJobId(id)
                .setStage(stage)
                .setState(state)
                .setSamplesDone(done)
                .build();
    }

    @Test
    void shouldGoFromQueuedToRunningToSucceededWithRateAndEta() {
        tracker.submitted(job("j", 100));
        List<JobStatus> seen = new ArrayList<>();
        tracker.watch("j", seen::add);
        tracker.apply(progress("j", "sampler", JobState.JOB_STATE_RUNNING, 0));
        now.addAndGet(1_000);
        tracker.apply(progress("j", "writer", JobState.JOB_STATE_RUNNING, 40));
        JobStatus mid = tracker.status("j");
        assertThat(mid.getSamplesDone()).isEqualTo(40);
        assertThat(mid.getSamplesPerSecond()).isEqualTo(40.0);
        assertThat(mid.getEtaSeconds()).isEqualTo(1.5);
        now.addAndGet(1_000);
        tracker.apply(progress("j", "writer", JobState.JOB_STATE_RUNNING, 100));
        assertThat(tracker.status("j").getState()).isEqualTo(JobState.JOB_STATE_SUCCEEDED);
        assertThat(seen)
                .extracting(JobStatus::getState)
                .containsExactly(
                        JobState.JOB_STATE_QUEUED,
                        JobState.JOB_STATE_RUNNING,
                        JobState.JOB_STATE_RUNNING,
                        JobState.JOB_STATE_SUCCEEDED);
    }

    @Test
    void shouldFailWithTheStagesReasonAndNeverChangeAfterwards() {
        tracker.submitted(job("j", 10));
        JobProgress failure = progress("j", "sampler", JobState.JOB_STATE_FAILED, 0).toBuilder()
                .setMessage("model 'x' is not in the model repository")
                .build();
        tracker.apply(failure);
        tracker.apply(progress("j", "writer", JobState.JOB_STATE_RUNNING, 10));
        JobStatus s = tracker.status("j");
        assertThat(s.getState()).isEqualTo(JobState.JOB_STATE_FAILED);
        assertThat(s.getMessage()).isEqualTo("sampler: model 'x' is not in the model repository");
        assertThat(s.getSamplesDone()).isZero();
        assertThat(tracker.cancel("j").getState()).isEqualTo(JobState.JOB_STATE_FAILED);
    }

    @Test
    void shouldCancelRunningJobAndListNewestFirst() {
        tracker.submitted(job("old", 5));
        now.addAndGet(10);
        tracker.submitted(job("new", 5));
        assertThat(tracker.cancel("old").getState()).isEqualTo(JobState.JOB_STATE_CANCELLED);
        assertThat(tracker.list(0)).extracting(s -> s.getJob().getJobId()).containsExactly("new", "old");
        assertThat(tracker.list(1)).hasSize(1);
        assertThatThrownBy(() -> tracker.cancel("zzz")).isInstanceOf(NotFoundException.class);
        assertThatThrownBy(() -> tracker.watch("zzz", s -> {})).isInstanceOf(NotFoundException.class);
    }

    @Test
    void shouldStopNotifyingAfterWatchIsClosed() throws Exception {
        tracker.submitted(job("j", 5));
        List<JobStatus> seen = new ArrayList<>();
        AutoCloseable handle = tracker.watch("j", seen::add);
        handle.close();
        tracker.cancel("j");
        assertThat(seen).hasSize(1);
    }

    @Test
    void shouldFoldReportsThatArrivedBeforeTheJobWasKnown() {
        // After a restart the progress topic may be read before the job's record.
        tracker.apply(progress("late", "sampler", JobState.JOB_STATE_RUNNING, 0));
        tracker.apply(progress("late", "writer", JobState.JOB_STATE_RUNNING, 10));
        assertThatThrownBy(() -> tracker.status("late")).isInstanceOf(NotFoundException.class);
        tracker.known(job("late", 10));
        JobStatus s = tracker.status("late");
        assertThat(s.getState()).isEqualTo(JobState.JOB_STATE_SUCCEEDED);
        assertThat(s.getSamplesDone()).isEqualTo(10);
        // Known twice (this gateway's own job, then its record on the topic): nothing changes.
        tracker.known(job("late", 10));
        assertThat(tracker.status("late")).isEqualTo(s);
    }

    @Test
    void shouldBoundTheReportsKeptForUnknownJobs() {
        for (int i = 0; i <= JobTracker.MAX_ORPHAN_REPORTS; i++) {
            tracker.apply(progress("orphan-" + i, "sampler", JobState.JOB_STATE_RUNNING, 0));
        }
        tracker.known(job("orphan-0", 5)); // its report was the oldest: dropped
        assertThat(tracker.status("orphan-0").getState()).isEqualTo(JobState.JOB_STATE_QUEUED);
        tracker.known(job("orphan-1", 5));
        assertThat(tracker.status("orphan-1").getState()).isEqualTo(JobState.JOB_STATE_RUNNING);
    }
}

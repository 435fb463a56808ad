package dev.genaug.domain.jobs;

import dev.genaug.api.events.v1.JobProgress;
import dev.genaug.api.events.v1.JobState;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The jobs a stage must stop working on: those cancelled on request or failed by any stage, as
 * read from the progress topic. Remembers the most recent {@code capacity} of them (older jobs have
 * long left the pipeline). Thread-safe.
 */
public final class CancelledJobs {
    /** Enough for every job of a busy week. */
    public static final int DEFAULT_CAPACITY = 100_000;

    private final Set<String> stopped;

    public CancelledJobs(int capacity) {
        this.stopped = Collections.synchronizedSet(Collections.newSetFromMap(new LinkedHashMap<>() {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                return size() > capacity;
            }
        }));
    }

    /** Folds one progress report in: CANCELLED or FAILED stops the job. */
    public void apply(JobProgress progress) {
        if (progress.getState() == JobState.JOB_STATE_CANCELLED || progress.getState() == JobState.JOB_STATE_FAILED) {
            stopped.add(progress.getJobId());
        }
    }

    /** Stops a job this stage gave up on itself. */
    public void stop(String jobId) {
        stopped.add(jobId);
    }

    public boolean stopped(String jobId) {
        return stopped.contains(jobId);
    }
}

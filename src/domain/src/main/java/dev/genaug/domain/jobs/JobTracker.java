package dev.genaug.domain.jobs;

import dev.genaug.api.events.v1.DatasetJob;
import dev.genaug.api.events.v1.JobProgress;
import dev.genaug.api.events.v1.JobState;
import dev.genaug.api.gateway.v1.JobStatus;
import dev.genaug.domain.error.NotFoundException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.UnaryOperator;

/**
 * What the gateway knows of each job, folded from the stages' {@link JobProgress} reports.
 *
 * <p>Jobs come from this gateway's SubmitJob or, after a restart or from other gateways, from the
 * jobs topic ({@link #known}). Rules: the sampler's RUNNING moves a queued job to RUNNING; the writer's sample count is the
 * job's progress and completes it when it reaches the job's count; FAILED from any stage fails
 * the job with that stage's reason; ended jobs (SUCCEEDED, FAILED, CANCELLED) never change again.
 * Thread-safe; watchers are called on the thread that applied the change.
 */
public final class JobTracker {
    /** Weight of the newest rate sample in the smoothed rate. */
    private static final double RATE_SMOOTHING = 0.3;

    private final LongSupplier clockMillis;
    private final Map<String, JobStatus> jobs = new ConcurrentHashMap<>();
    private final Map<String, List<Consumer<JobStatus>>> watchers = new ConcurrentHashMap<>();
    /** Reports of jobs not known yet, oldest job first; guarded by itself. */
    private final LinkedHashMap<String, List<JobProgress>> orphans = new LinkedHashMap<>();

    private int orphanCount;

    /** Reports kept for jobs not known yet, at most (the oldest jobs' go first). */
    static final int MAX_ORPHAN_REPORTS = 100_000;

    public JobTracker(LongSupplier clockMillis) {
        this.clockMillis = clockMillis;
    }

    public static boolean ended(JobState state) {
        return state == JobState.JOB_STATE_SUCCEEDED
                || state == JobState.JOB_STATE_FAILED
                || state == JobState.JOB_STATE_CANCELLED;
    }

    /** Records a newly submitted job (with its id) as QUEUED. */
    public JobStatus submitted(DatasetJob job) {
        long now = clockMillis.getAsLong();
        JobStatus status = JobStatus.newBuilder()
                .setJob(job)
                .setState(JobState.JOB_STATE_QUEUED)
                .setEtaSeconds(-1)
                .setSubmittedAtMs(job.getSubmittedAtMs() != 0 ? job.getSubmittedAtMs() : now)
                .setUpdatedAtMs(now)
                .build();
        jobs.put(job.getJobId(), status);
        return status;
    }

    public JobStatus status(String jobId) {
        JobStatus status = jobs.get(jobId);
        if (status == null) {
            throw new NotFoundException("job '" + jobId + "' is unknown to this gateway");
        }
        return status;
    }

    /** Newest first; limit 0 means all. */
    public List<JobStatus> list(int limit) {
        var stream = jobs.values().stream()
                .sorted(Comparator.comparingLong(JobStatus::getSubmittedAtMs)
                        .reversed()
                        .thenComparing(s -> s.getJob().getJobId()));
        return (limit > 0 ? stream.limit(limit) : stream).toList();
    }

    /** Marks a job CANCELLED unless it has ended; returns the resulting status. */
    public JobStatus cancel(String jobId) {
        return cancel(jobId, "");
    }

    /** Marks a job CANCELLED with a message (what was written) unless it has ended. */
    public JobStatus cancel(String jobId, String message) {
        return update(
                jobId,
                s -> ended(s.getState())
                        ? s
                        : s.toBuilder()
                                .setState(JobState.JOB_STATE_CANCELLED)
                                .setMessage(message)
                                .setEtaSeconds(-1)
                                .build());
    }

    /**
     * Folds one stage report in. A report of a job not known yet is kept until the job is (its
     * record may come later from the jobs topic, after a restart), up to a bound.
     */
    public void apply(JobProgress progress) {
        String id = progress.getJobId();
        if (!jobs.containsKey(id)) {
            synchronized (orphans) {
                if (!jobs.containsKey(id)) {
                    orphans.computeIfAbsent(id, k -> new ArrayList<>()).add(progress);
                    orphanCount++;
                    while (orphanCount > MAX_ORPHAN_REPORTS && !orphans.isEmpty()) {
                        var eldest = orphans.entrySet().iterator().next();
                        orphanCount -= eldest.getValue().size();
                        orphans.remove(eldest.getKey());
                    }
                    return;
                }
            }
        }
        update(id, s -> fold(s, progress));
    }

    /**
     * Registers a job read from the jobs topic (accepted by this gateway before a restart, or by
     * another one) unless it is known, then folds in the reports that arrived before it.
     */
    public void known(DatasetJob job) {
        List<JobProgress> pending;
        synchronized (orphans) {
            if (jobs.containsKey(job.getJobId())) {
                return;
            }
            submitted(job);
            pending = orphans.remove(job.getJobId());
            if (pending != null) {
                orphanCount -= pending.size();
            }
        }
        if (pending != null) {
            for (JobProgress p : pending) {
                update(job.getJobId(), s -> fold(s, p));
            }
        }
    }

    private JobStatus fold(JobStatus s, JobProgress p) {
        if (ended(s.getState())) {
            return s;
        }
        JobStatus.Builder b = s.toBuilder();
        if (p.getState() == JobState.JOB_STATE_FAILED) {
            return b.setState(JobState.JOB_STATE_FAILED)
                    .setMessage(p.getStage() + ": " + p.getMessage())
                    .setEtaSeconds(-1)
                    .build();
        }
        if (p.getState() == JobState.JOB_STATE_CANCELLED) {
            return b.setState(JobState.JOB_STATE_CANCELLED).setEtaSeconds(-1).build();
        }
        if (s.getState() == JobState.JOB_STATE_QUEUED && p.getState() == JobState.JOB_STATE_RUNNING) {
            b.setState(JobState.JOB_STATE_RUNNING);
        }
        if ("writer".equals(p.getStage()) && p.getSamplesDone() > s.getSamplesDone()) {
            long now = clockMillis.getAsLong();
            long count = s.getJob().getCount();
            long done = Math.min(p.getSamplesDone(), count);
            double seconds = (now - s.getUpdatedAtMs()) / 1000.0;
            double rate = s.getSamplesPerSecond();
            if (seconds > 0) {
                double instant = (done - s.getSamplesDone()) / seconds;
                rate = rate == 0 ? instant : RATE_SMOOTHING * instant + (1 - RATE_SMOOTHING) * rate;
            }
            b.setSamplesDone(done).setSamplesPerSecond(rate);
            b.setEtaSeconds(rate > 0 ? (count - done) / rate : -1);
            if (b.getState() == JobState.JOB_STATE_QUEUED) {
                b.setState(JobState.JOB_STATE_RUNNING);
            }
            if (done >= count) {
                b.setState(JobState.JOB_STATE_SUCCEEDED)
                        .setEtaSeconds(0)
                        .setMessage(count + " samples written to " + s.getJob().getOutput());
            }
        }
        return b.build();
    }

    // Changes and watcher registration run under the map's per-key lock, so a watcher sees every
    // state exactly once and in order.
    private JobStatus update(String jobId, UnaryOperator<JobStatus> change) {
        JobStatus after = jobs.compute(jobId, (id, s) -> {
            if (s == null) {
                throw new NotFoundException("job '" + jobId + "' is unknown to this gateway");
            }
            JobStatus next = change.apply(s);
            if (next.equals(s)) {
                return s;
            }
            next = next.toBuilder().setUpdatedAtMs(clockMillis.getAsLong()).build();
            for (Consumer<JobStatus> w : watchers.getOrDefault(jobId, List.of())) {
                w.accept(next);
            }
            return next;
        });
        return after;
    }

    /**
     * Calls {@code watcher} with the current status, then with every change, until the returned
     * handle is closed. The watcher must not block.
     */
    public AutoCloseable watch(String jobId, Consumer<JobStatus> watcher) {
        List<Consumer<JobStatus>> list = watchers.computeIfAbsent(jobId, k -> new CopyOnWriteArrayList<>());
        JobStatus current = jobs.computeIfPresent(jobId, (id, s) -> {
            list.add(watcher);
            watcher.accept(s);
            return s;
        });
        if (current == null) {
            throw new NotFoundException("job '" + jobId + "' is unknown to this gateway");
        }
        return () -> list.remove(watcher);
    }
}

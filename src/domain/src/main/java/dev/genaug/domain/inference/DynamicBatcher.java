package dev.genaug.domain.inference;

import dev.genaug.domain.error.ResourceExhaustedException;
import dev.genaug.domain.error.UnavailableException;
import dev.genaug.domain.repository.ResolvedModel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.ObjIntConsumer;

/**
 * Coalesces concurrent requests for the same model into one batch, as Triton's dynamic batcher
 * does: a batch runs when it holds {@code maxBatch} rows or when its first request has waited
 * {@code maxQueueDelay}. Each (model, version, outputs) has a bounded queue; a full queue refuses
 * with RESOURCE_EXHAUSTED instead of growing without limit. Requests larger than {@code maxBatch}
 * run alone, within the same limit of runs at once. A request whose caller gave up (interrupted
 * thread) is dropped before it runs.
 *
 * <p>With {@code split}, a batch that finds other instances idle takes them too and runs as that
 * many parts at once, one on its own thread and the rest on helper threads: on a CPU, several
 * single-threaded runs of a graph of many small operators beat one multi-threaded run, which pays
 * for waking its threads at every parallel section. Rows keep their order, and each row's result
 * does not depend on the part it ran in (row-independent models, as every generator is). Parts hold
 * whole groups of {@link AlignedRuns#ROWS} rows (a batch of fewer than two groups runs whole), and
 * in a batch of several requests those of whole groups come first, so that a padded request's rows
 * never fall in the ragged tail of a run, where element-wise kernels round otherwise.
 */
public final class DynamicBatcher implements InferenceBackend {

    /**
     * @param maxBatch most rows in one run
     * @param maxQueueDelay how long the first request of a batch waits for company
     * @param maxQueuedRequests requests waiting per model before new ones are refused
     * @param instances runs of one model that may proceed at once, each taking its batch from the
     *     shared queue (Triton's instance_group count)
     * @param split let a batch run as parts on the instances that are idle when it starts
     */
    public record Settings(int maxBatch, Duration maxQueueDelay, int maxQueuedRequests, int instances, boolean split) {
        public Settings {
            if (maxBatch < 1 || maxQueuedRequests < 1 || maxQueueDelay.isNegative() || instances < 1) {
                throw new IllegalArgumentException("bad batcher settings: " + maxBatch + ", " + maxQueueDelay + ", "
                        + maxQueuedRequests + ", " + instances);
            }
        }

        /** Batches never split. */
        public Settings(int maxBatch, Duration maxQueueDelay, int maxQueuedRequests, int instances) {
            this(maxBatch, maxQueueDelay, maxQueuedRequests, instances, false);
        }

        /** One run at a time per model. */
        public Settings(int maxBatch, Duration maxQueueDelay, int maxQueuedRequests) {
            this(maxBatch, maxQueueDelay, maxQueuedRequests, 1, false);
        }
    }

    private record Key(String model, long version, List<String> outputs) {}

    private static final class Pending {
        final ResolvedModel model;
        final Map<String, FloatTensor> inputs;
        final int rows;
        final CompletableFuture<Map<String, FloatTensor>> result = new CompletableFuture<>();

        Pending(ResolvedModel model, Map<String, FloatTensor> inputs) {
            this.model = model;
            this.inputs = inputs;
            this.rows = inputs.values().iterator().next().rows();
        }
    }

    private final InferenceBackend backend;
    private final Settings settings;
    private final ObjIntConsumer<String> batchSizes;
    private final Map<Key, LinkedBlockingDeque<Pending>> queues = new ConcurrentHashMap<>();
    /** Runs in progress per model, queued or on a caller's thread: at most {@code instances}. */
    private final Map<Key, Semaphore> runs = new ConcurrentHashMap<>();

    private final List<Thread> workers = new ArrayList<>();
    /** Runs the parts of split batches beyond the first, which runs on the batch's own thread. */
    private final ExecutorService helpers = Executors.newCachedThreadPool(
            Thread.ofPlatform().daemon().name("batcher-part-", 0).factory());

    private volatile boolean closed;

    /**
     * @param batchSizes told the model name and row count of every batch that runs (for metrics)
     */
    public DynamicBatcher(InferenceBackend backend, Settings settings, ObjIntConsumer<String> batchSizes) {
        this.backend = backend;
        this.settings = settings;
        this.batchSizes = batchSizes;
    }

    @Override
    public void release(ResolvedModel model) {
        backend.release(model);
    }

    @Override
    public String name() {
        return backend.name();
    }

    @Override
    public Map<String, FloatTensor> infer(ResolvedModel model, Map<String, FloatTensor> inputs, List<String> outputs) {
        if (closed) {
            throw new UnavailableException("the inference backend is shutting down");
        }
        Pending p = new Pending(model, inputs);
        Key key = new Key(model.name(), model.version(), List.copyOf(outputs));
        LinkedBlockingDeque<Pending> queue = queues.computeIfAbsent(key, this::startWorker);
        // Oversized requests run alone, and a request finding nothing waiting and a run free runs
        // at once (with no queue delay nothing waits for company, and the hand-off to the batcher's
        // thread and back is most of a small request's overhead): both on the caller's thread, and
        // both as one of the model's `instances` runs, so no caller runs the model more often at
        // once than configured (memory and cores).
        Semaphore free = runs.get(key);
        boolean alone = p.rows > settings.maxBatch();
        if (alone) {
            try {
                free.acquire();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CancellationException("inference cancelled by the caller");
            }
        }
        if (alone || (settings.maxQueueDelay().isZero() && queue.isEmpty() && free.tryAcquire())) {
            try {
                return runHolding(key, free, model, inputs, p.rows);
            } finally {
                free.release();
            }
        }
        if (!queue.offerLast(p)) {
            throw new ResourceExhaustedException("model '" + model.name() + "': " + settings.maxQueuedRequests()
                    + " requests are already waiting for the batcher; retry later");
        }
        try {
            return p.result.get();
        } catch (InterruptedException e) {
            // The caller went away: drop the request if it has not started.
            p.result.cancel(false);
            queue.remove(p);
            Thread.currentThread().interrupt();
            throw new CancellationException("inference cancelled by the caller");
        } catch (ExecutionException e) {
            throw unwrapped(e);
        }
    }

    private LinkedBlockingDeque<Pending> startWorker(Key key) {
        LinkedBlockingDeque<Pending> queue = new LinkedBlockingDeque<>(settings.maxQueuedRequests());
        runs.put(key, new Semaphore(settings.instances()));
        for (int i = 0; i < settings.instances(); i++) {
            Thread worker = Thread.ofPlatform()
                    .daemon()
                    .name("batcher-" + key.model() + "-" + key.version() + "-" + i)
                    .start(() -> work(key, queue));
            synchronized (workers) {
                workers.add(worker);
            }
        }
        return queue;
    }

    private void work(Key key, LinkedBlockingDeque<Pending> queue) {
        while (!closed) {
            List<Pending> batch = new ArrayList<>();
            try {
                Pending first = queue.take();
                if (first.result.isDone()) {
                    continue;
                }
                batch.add(first);
                int rows = first.rows;
                long deadline = System.nanoTime() + settings.maxQueueDelay().toNanos();
                while (rows < settings.maxBatch()) {
                    long wait = deadline - System.nanoTime();
                    Pending next = wait > 0 ? queue.poll(wait, TimeUnit.NANOSECONDS) : queue.poll();
                    if (next == null) {
                        break;
                    }
                    if (next.result.isDone()) {
                        continue;
                    }
                    if (rows + next.rows > settings.maxBatch()) {
                        queue.offerFirst(next);
                        break;
                    }
                    batch.add(next);
                    rows += next.rows;
                }
            } catch (InterruptedException e) {
                return;
            }
            Semaphore free = runs.get(key);
            try {
                free.acquire();
            } catch (InterruptedException e) {
                batch.forEach(p -> p.result.completeExceptionally(
                        new UnavailableException("the inference backend is shutting down")));
                return;
            }
            try {
                run(key, free, batch);
            } finally {
                free.release();
            }
        }
    }

    private void run(Key key, Semaphore free, List<Pending> batch) {
        batch.removeIf(p -> p.result.isDone());
        if (batch.isEmpty()) {
            return;
        }
        try {
            Map<String, FloatTensor> outputs;
            int rows = batch.stream().mapToInt(p -> p.rows).sum();
            if (batch.size() == 1) {
                outputs = runHolding(key, free, batch.getFirst().model, batch.getFirst().inputs, rows);
                batch.getFirst().result.complete(outputs);
                return;
            }
            // Requests of whole groups of rows first (the padded runs of jobs, AlignedRuns): they
            // then start on group boundaries, and only the others can fall in the run's tail.
            batch.sort(Comparator.comparing(p -> p.rows % AlignedRuns.ROWS != 0));
            Map<String, FloatTensor> joined = new LinkedHashMap<>();
            for (String name : batch.getFirst().inputs.keySet()) {
                joined.put(
                        name,
                        FloatTensor.concat(
                                batch.stream().map(p -> p.inputs.get(name)).toList()));
            }
            outputs = runHolding(key, free, batch.getFirst().model, joined, rows);
            int at = 0;
            for (Pending p : batch) {
                Map<String, FloatTensor> mine = new LinkedHashMap<>();
                for (var e : outputs.entrySet()) {
                    mine.put(e.getKey(), e.getValue().slice(at, p.rows));
                }
                at += p.rows;
                p.result.complete(mine);
            }
        } catch (RuntimeException e) {
            batch.forEach(p -> p.result.completeExceptionally(e));
        }
    }

    /**
     * Runs a batch while holding one of its model's run permits. With splitting on and nothing
     * else waiting, it also takes the permits of idle instances (never waiting for one) and runs
     * that many parts at once; each extra permit is given back when its part ends.
     */
    private Map<String, FloatTensor> runHolding(
            Key key, Semaphore free, ResolvedModel model, Map<String, FloatTensor> inputs, int rows) {
        int parts = 1;
        // Only idle capacity is taken: with requests queued or waiting for a run, the other
        // instances have work of their own.
        LinkedBlockingDeque<Pending> queue = queues.get(key);
        if (settings.split() && !free.hasQueuedThreads() && (queue == null || queue.isEmpty())) {
            while (parts < Math.min(rows / AlignedRuns.ROWS, settings.instances()) && free.tryAcquire()) {
                parts++;
            }
        }
        if (parts == 1) {
            return runPart(key, model, inputs);
        }
        List<Map<String, FloatTensor>> pieces = new ArrayList<>();
        int from = 0;
        for (int count : partSizes(rows, parts)) {
            Map<String, FloatTensor> piece = new LinkedHashMap<>();
            for (var e : inputs.entrySet()) {
                piece.put(e.getKey(), e.getValue().slice(from, count));
            }
            pieces.add(piece);
            from += count;
        }
        List<Future<Map<String, FloatTensor>>> others = new ArrayList<>();
        int submitted = 0;
        try {
            for (int i = 1; i < parts; i++) {
                Map<String, FloatTensor> piece = pieces.get(i);
                others.add(helpers.submit(() -> {
                    try {
                        return runPart(key, model, piece);
                    } finally {
                        free.release();
                    }
                }));
                submitted++;
            }
        } catch (RejectedExecutionException e) {
            throw new UnavailableException("the inference backend is shutting down");
        } finally {
            // Permits of parts that never started (the helpers refused them) go back at once.
            free.release(parts - 1 - submitted);
        }
        List<Map<String, FloatTensor>> results = new ArrayList<>();
        results.add(runPart(key, model, pieces.getFirst()));
        try {
            for (Future<Map<String, FloatTensor>> f : others) {
                results.add(f.get());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CancellationException("inference cancelled by the caller");
        } catch (ExecutionException e) {
            throw unwrapped(e);
        }
        Map<String, FloatTensor> joined = new LinkedHashMap<>();
        for (String name : results.getFirst().keySet()) {
            joined.put(
                    name,
                    FloatTensor.concat(results.stream().map(r -> r.get(name)).toList()));
        }
        return joined;
    }

    /**
     * Rows of each of {@code parts} contiguous parts of {@code rows} (one part, or at least {@code
     * parts} x {@link AlignedRuns#ROWS} rows): whole groups of {@link AlignedRuns#ROWS} rows, as evenly
     * as they go with the larger parts first, and the rows beyond the last whole group in the last
     * part. A padded request's rows then lie in whole packets of whichever part they run in.
     */
    public static int[] partSizes(int rows, int parts) {
        int groups = rows / AlignedRuns.ROWS;
        if (parts < 1 || (parts > 1 && groups < parts)) {
            throw new IllegalArgumentException(rows + " rows do not make " + parts + " parts of whole groups");
        }
        int[] sizes = new int[parts];
        for (int i = 0; i < parts; i++) {
            sizes[i] = (groups / parts + (i < groups % parts ? 1 : 0)) * AlignedRuns.ROWS;
        }
        sizes[parts - 1] += rows % AlignedRuns.ROWS;
        return sizes;
    }

    /** What a run threw, as it threw it where it can be. */
    private static RuntimeException unwrapped(ExecutionException e) {
        return e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
    }

    private Map<String, FloatTensor> runPart(Key key, ResolvedModel model, Map<String, FloatTensor> piece) {
        batchSizes.accept(model.name(), piece.values().iterator().next().rows());
        return backend.infer(model, piece, key.outputs());
    }

    @Override
    public void close() {
        closed = true;
        helpers.shutdownNow();
        synchronized (workers) {
            workers.forEach(Thread::interrupt);
        }
        queues.values()
                .forEach(q -> q.forEach(p -> p.result.completeExceptionally(
                        new UnavailableException("the inference backend is shutting down"))));
        backend.close();
    }
}

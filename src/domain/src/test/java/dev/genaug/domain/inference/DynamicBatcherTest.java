package dev.genaug.domain.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.genaug.domain.error.ResourceExhaustedException;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.repository.ResolvedModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The batcher's scheduling, over a backend that computes y = 2x + row marker exactly, so every
 * caller can check it got its own rows back whatever batch they travelled in.
 */
class DynamicBatcherTest {
    @TempDir
    Path root;

    /** Doubles its input; records each batch; optionally blocks until released. */
    static final class Doubling implements InferenceBackend {
        final List<Integer> batches = new CopyOnWriteArrayList<>();
        volatile CountDownLatch gate = new CountDownLatch(0);

        @Override
        public Map<String, FloatTensor> infer(
                ResolvedModel model, Map<String, FloatTensor> inputs, List<String> outputs) {
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            FloatTensor x = inputs.get("x");
            batches.add(x.rows());
            float[] y = new float[x.data().length];
            for (int i = 0; i < y.length; i++) {
                y[i] = 2 * x.data()[i];
            }
            return Map.of("y", new FloatTensor(x.shape(), y));
        }

        @Override
        public String name() {
            return "doubling";
        }
    }

    /** A backend of that name computing its outputs from its inputs alone. */
    private static InferenceBackend backend(String name, UnaryOperator<Map<String, FloatTensor>> run) {
        return new InferenceBackend() {
            @Override
            public Map<String, FloatTensor> infer(ResolvedModel model, Map<String, FloatTensor> in, List<String> out) {
                return run.apply(in);
            }

            @Override
            public String name() {
                return name;
            }
        };
    }

    /**
     * Returns its input after sleeping; keeps in {@code most} the most runs seen at once and in
     * {@code rowsRun} the rows run in all.
     */
    private static InferenceBackend slow(long millis, AtomicInteger most, AtomicInteger rowsRun) {
        AtomicInteger running = new AtomicInteger();
        return backend("slow", in -> {
            most.accumulateAndGet(running.incrementAndGet(), Math::max);
            rowsRun.addAndGet(in.get("x").rows());
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                running.decrementAndGet();
            }
            return Map.of("y", in.get("x"));
        });
    }

    private ResolvedModel model() throws IOException {
        Path dir = Files.createDirectories(root.resolve("m/1"));
        Files.writeString(dir.getParent().resolve("config.pbtxt"), "name: \"m\"\nplatform: \"onnxruntime_onnx\"\n");
        return ModelRepository.open(root).resolve("m", "", "model");
    }

    /** Makes the same call from `callers` pool threads at once and waits for all of them. */
    private static void callAtOnce(ExecutorService pool, int callers, Callable<?> call) throws Exception {
        List<Future<?>> calls = new ArrayList<>();
        for (int c = 0; c < callers; c++) {
            calls.add(pool.submit(call));
        }
        for (Future<?> f : calls) {
            f.get();
        }
    }

    private static FloatTensor rows(int first, int count) {
        float[] v = new float[count * 2];
        for (int i = 0; i < count; i++) {
            v[2 * i] = first + i;
            v[2 * i + 1] = -(first + i);
        }
        return new FloatTensor(new long[] {count, 2}, v);
    }

    @Test
    void shouldCoalesceConcurrentRequestsAndReturnEachItsOwnRows() throws Exception {
        Doubling backend = new Doubling();
        List<Integer> sizes = new CopyOnWriteArrayList<>();
        ResolvedModel m = model();
        try (var batcher = new DynamicBatcher(
                        backend,
                        new DynamicBatcher.Settings(64, Duration.ofMillis(200), 100),
                        (model, n) -> sizes.add(n));
                ExecutorService pool = Executors.newFixedThreadPool(8)) {
            List<Future<Map<String, FloatTensor>>> calls = new ArrayList<>();
            for (int c = 0; c < 8; c++) {
                int first = c * 10;
                calls.add(pool.submit(() -> batcher.infer(m, Map.of("x", rows(first, 3)), List.of("y"))));
            }
            for (int c = 0; c < 8; c++) {
                FloatTensor y = calls.get(c).get().get("y");
                assertThat(y.shape()).containsExactly(3, 2);
                assertThat(y.data()[0]).isEqualTo(2f * c * 10);
                assertThat(y.data()[5]).isEqualTo(-2f * (c * 10 + 2));
            }
        }
        // 8 requests of 3 rows arriving together within the 200 ms window: far fewer runs than calls.
        assertThat(backend.batches.stream().mapToInt(Integer::intValue).sum()).isEqualTo(24);
        assertThat(backend.batches.size()).isLessThan(8);
        assertThat(sizes).isEqualTo(backend.batches);
    }

    @Test
    void shouldNeverExceedMaxBatchAndRunOversizedRequestsAlone() throws Exception {
        Doubling backend = new Doubling();
        ResolvedModel m = model();
        try (var batcher = new DynamicBatcher(
                        backend, new DynamicBatcher.Settings(5, Duration.ofMillis(100), 100), (model, n) -> {});
                ExecutorService pool = Executors.newFixedThreadPool(6)) {
            callAtOnce(pool, 6, () -> batcher.infer(m, Map.of("x", rows(0, 2)), List.of("y")));
            assertThat(backend.batches).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(5));
            FloatTensor big =
                    batcher.infer(m, Map.of("x", rows(0, 9)), List.of("y")).get("y");
            assertThat(big.rows()).isEqualTo(9);
            assertThat(backend.batches).contains(9);
        }
    }

    @Test
    void shouldRefuseWhenTheQueueIsFull() throws Exception {
        Doubling backend = new Doubling();
        backend.gate = new CountDownLatch(1);
        ResolvedModel m = model();
        try (var batcher = new DynamicBatcher(
                        backend, new DynamicBatcher.Settings(1, Duration.ZERO, 2), (model, n) -> {});
                ExecutorService pool = Executors.newFixedThreadPool(5)) {
            // One request runs on its caller's thread (blocked in the backend), the batcher's thread
            // holds the next one until the run is over, two wait in the queue: it is full.
            List<Future<?>> calls = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                calls.add(pool.submit(() -> batcher.infer(m, Map.of("x", rows(0, 1)), List.of("y"))));
                Thread.sleep(100);
            }
            assertThatThrownBy(() -> batcher.infer(m, Map.of("x", rows(0, 1)), List.of("y")))
                    .isInstanceOf(ResourceExhaustedException.class)
                    .hasMessageContaining("'m'");
            backend.gate.countDown();
            for (Future<?> f : calls) {
                f.get();
            }
        }
    }

    @Test
    void shouldFailEveryRequestOfABatchWhenTheBackendFails() throws Exception {
        InferenceBackend failing = backend("failing", in -> {
            throw new IllegalStateException("boom");
        });
        ResolvedModel m = model();
        try (var batcher = new DynamicBatcher(
                failing, new DynamicBatcher.Settings(8, Duration.ofMillis(50), 10), (model, n) -> {})) {
            assertThatThrownBy(() -> batcher.infer(m, Map.of("x", rows(0, 1)), List.of("y")))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("boom");
        }
    }

    @Test
    void shouldRunOversizedRequestsNoMoreOftenAtOnceThanTheInstancesWhenManyCallersSendThem() throws Exception {
        AtomicInteger most = new AtomicInteger();
        InferenceBackend slow = slow(20, most, new AtomicInteger());
        ResolvedModel m = model();
        try (var batcher = new DynamicBatcher(
                        slow, new DynamicBatcher.Settings(4, Duration.ZERO, 100, 2), (model, n) -> {});
                ExecutorService pool = Executors.newFixedThreadPool(8)) {
            callAtOnce(pool, 16, () -> batcher.infer(m, Map.of("x", rows(0, 9)), List.of("y")));
        }
        // 8 callers at once, each with 9 rows over a max batch of 4: never more than 2 runs at once.
        assertThat(most.get()).isEqualTo(2);
    }

    @Test
    void shouldRunALoneRequestOnItsCallersThread() throws Exception {
        List<String> threads = new CopyOnWriteArrayList<>();
        InferenceBackend recording = backend("recording", in -> {
            threads.add(Thread.currentThread().getName());
            return Map.of("y", in.get("x"));
        });
        ResolvedModel m = model();
        try (var batcher =
                new DynamicBatcher(recording, new DynamicBatcher.Settings(8, Duration.ZERO, 10), (model, n) -> {})) {
            batcher.infer(m, Map.of("x", rows(0, 1)), List.of("y"));
        }
        assertThat(threads).containsExactly(Thread.currentThread().getName());
    }

    @Test
    void shouldRunABatchAsPartsAtOnceOnIdleInstancesWhenSplitting() throws Exception {
        // Each run waits at a barrier for another run: a batch that did not run as two parts at
        // the same time would time out there.
        CyclicBarrier together = new CyclicBarrier(2);
        List<Integer> parts = new CopyOnWriteArrayList<>();
        InferenceBackend meeting = backend("meeting", in -> {
            try {
                together.await(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException("the parts did not run at once", e);
            }
            FloatTensor x = in.get("x");
            float[] y = new float[x.data().length];
            for (int i = 0; i < y.length; i++) {
                y[i] = 2 * x.data()[i];
            }
            return Map.of("y", new FloatTensor(x.shape(), y));
        });
        List<Integer> sizes = new CopyOnWriteArrayList<>();
        ResolvedModel m = model();
        try (var batcher = new DynamicBatcher(
                meeting, new DynamicBatcher.Settings(64, Duration.ZERO, 10, 2, true), (model, n) -> sizes.add(n))) {
            FloatTensor y =
                    batcher.infer(m, Map.of("x", rows(100, 21)), List.of("y")).get("y");
            assertThat(y.shape()).containsExactly(21, 2);
            for (int i = 0; i < 21; i++) {
                assertThat(y.data()[2 * i]).isEqualTo(2f * (100 + i));
                assertThat(y.data()[2 * i + 1]).isEqualTo(-2f * (100 + i));
            }
        }
        // Whole groups of 8 rows per part, the 5 rows beyond them with the last.
        assertThat(sizes).containsExactlyInAnyOrder(8, 13);
    }

    @Test
    void shouldSplitIntoWholeGroupsOfRowsWhenABatchRunsAsParts() {
        assertThat(DynamicBatcher.partSizes(128, 2)).containsExactly(64, 64);
        assertThat(DynamicBatcher.partSizes(80, 2)).containsExactly(40, 40);
        assertThat(DynamicBatcher.partSizes(24, 2)).containsExactly(16, 8);
        assertThat(DynamicBatcher.partSizes(40, 3)).containsExactly(16, 16, 8);
        assertThat(DynamicBatcher.partSizes(21, 2)).containsExactly(8, 13);
        assertThat(DynamicBatcher.partSizes(5, 1)).containsExactly(5);
        assertThatThrownBy(() -> DynamicBatcher.partSizes(15, 2)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldPutRequestsOfWholeGroupsFirstWhenABatchJoinsSeveral() throws Exception {
        // The first value of each run's input, and the gate holding the first run while two more
        // requests queue: 3 rows (an interactive call), then 8 (a padded job batch).
        List<Float> firsts = new CopyOnWriteArrayList<>();
        CountDownLatch gate = new CountDownLatch(1);
        InferenceBackend recording = backend("recording", in -> {
            try {
                gate.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            firsts.add(in.get("x").data()[0]);
            return Map.of("y", in.get("x"));
        });
        ResolvedModel m = model();
        try (var batcher = new DynamicBatcher(
                        recording, new DynamicBatcher.Settings(16, Duration.ofMillis(300), 10, 1), (model, n) -> {});
                ExecutorService pool = Executors.newFixedThreadPool(3)) {
            Future<?> full = pool.submit(() -> batcher.infer(m, Map.of("x", rows(0, 16)), List.of("y")));
            Thread.sleep(100);
            Future<Map<String, FloatTensor>> three =
                    pool.submit(() -> batcher.infer(m, Map.of("x", rows(100, 3)), List.of("y")));
            Thread.sleep(100);
            Future<Map<String, FloatTensor>> eight =
                    pool.submit(() -> batcher.infer(m, Map.of("x", rows(200, 8)), List.of("y")));
            Thread.sleep(100);
            gate.countDown();
            full.get();
            assertThat(three.get().get("y")).isEqualTo(rows(100, 3));
            assertThat(eight.get().get("y")).isEqualTo(rows(200, 8));
        }
        // Two runs: the 16 rows, then both queued requests in one, the 8 rows first.
        assertThat(firsts).containsExactly(0f, 200f);
    }

    @Test
    void shouldRunNoMorePartsAtOnceThanTheInstancesWhenManyCallersSplit() throws Exception {
        AtomicInteger most = new AtomicInteger();
        AtomicInteger rowsRun = new AtomicInteger();
        InferenceBackend slow = slow(5, most, rowsRun);
        ResolvedModel m = model();
        try (var batcher = new DynamicBatcher(
                        slow, new DynamicBatcher.Settings(16, Duration.ZERO, 100, 3, true), (model, n) -> {});
                ExecutorService pool = Executors.newFixedThreadPool(8)) {
            callAtOnce(pool, 40, () -> {
                FloatTensor y =
                        batcher.infer(m, Map.of("x", rows(7, 12)), List.of("y")).get("y");
                assertThat(y).isEqualTo(rows(7, 12));
                return null;
            });
        }
        assertThat(most.get()).isBetween(2, 3);
        assertThat(rowsRun.get()).isEqualTo(40 * 12);
    }
}

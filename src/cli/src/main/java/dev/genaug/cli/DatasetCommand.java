package dev.genaug.cli;

import dev.genaug.domain.dataset.DatasetRenderer;
import dev.genaug.domain.dataset.ShapesParts;
import dev.genaug.domain.error.InvalidArgumentException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code genaug dataset}: the project's procedural datasets. */
@Command(
        name = "dataset",
        mixinStandardHelpOptions = true,
        description = "Procedural datasets with exact labels.",
        subcommands = {DatasetCommand.Render.class})
final class DatasetCommand {

    @Command(
            name = "render",
            mixinStandardHelpOptions = true,
            description = "Render shapes-parts samples into WebDataset-style tar shards "
                    + "(<key>.png, <key>.mask.png, <key>.json).")
    static final class Render implements Callable<Integer> {
        @Option(names = "--count", required = true, description = "Number of samples.")
        long count;

        @Option(names = "--seed", defaultValue = "0", description = "Dataset seed (default ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--start", defaultValue = "0", description = "First sample index (default ${DEFAULT-VALUE}).")
        long start;

        @Option(
                names = "--shard-size",
                defaultValue = "1000",
                description = "Samples per shard (default ${DEFAULT-VALUE}).")
        int shardSize;

        @Option(names = "--out", required = true, description = "Output folder.")
        Path out;

        @Override
        public Integer call() throws Exception {
            if (count < 1 || shardSize < 1 || start < 0) {
                throw new InvalidArgumentException(
                        "--count, --shard-size and --start",
                        "must be >= 1, >= 1 and >= 0, got " + count + ", " + shardSize + " and " + start);
            }
            long t0 = System.nanoTime();
            Progress bar = new Progress(count);
            List<DatasetRenderer.Shard> shards =
                    DatasetRenderer.render(seed, start, count, shardSize, out, bar::update);
            bar.finish();
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf(
                    "%s: %d samples (seed %d, indices %d..%d) in %d shards under %s, %.1f s (%.0f samples/s)%n",
                    ShapesParts.NAME,
                    count,
                    seed,
                    start,
                    start + count - 1,
                    shards.size(),
                    out,
                    seconds,
                    count / seconds);
            return 0;
        }
    }

    /** A one-line progress bar on stderr, redrawn at most every 200 ms. */
    static final class Progress {
        private final long total;
        private long lastDraw;

        Progress(long total) {
            this.total = total;
        }

        void update(long done) {
            long now = System.nanoTime();
            if (now - lastDraw > 200_000_000L || done == total) {
                lastDraw = now;
                int width = 30;
                int filled = (int) (width * done / total);
                System.err.printf("\r[%s%s] %d/%d", "#".repeat(filled), " ".repeat(width - filled), done, total);
            }
        }

        void finish() {
            System.err.println();
        }
    }
}

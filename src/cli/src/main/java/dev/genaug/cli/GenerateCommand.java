package dev.genaug.cli;

import dev.genaug.api.common.v1.ModelRef;
import dev.genaug.api.events.v1.DatasetJob;
import dev.genaug.api.events.v1.JobState;
import dev.genaug.api.gateway.v1.CancelJobRequest;
import dev.genaug.api.gateway.v1.DatasetServiceGrpc;
import dev.genaug.api.gateway.v1.JobStatus;
import dev.genaug.api.gateway.v1.SubmitJobRequest;
import dev.genaug.api.gateway.v1.WatchJobRequest;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code genaug generate}: one dataset job, as a user runs it. Uses the stack answering at
 * {@code --gateway}; when none does, starts the embedded one (Kafka, sampler, generator, gateway)
 * for this job and stops it afterwards. Shows progress, and cancels the job on Ctrl-C.
 */
@Command(
        name = "generate",
        mixinStandardHelpOptions = true,
        description = "Generate a dataset of samples of a generator model (WebDataset shards, manifest, preview).")
final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--count", required = true, description = "Number of samples.")
    long count;

    @Option(names = "--out", required = true, description = "Output folder; created, and must be empty.")
    Path out;

    @Option(
            names = "--model",
            defaultValue = "shapes-generator",
            description = "Generator model (default ${DEFAULT-VALUE}).")
    String model;

    @Option(
            names = "--model-version",
            defaultValue = "",
            description = "Generator version (default: the latest, or with --labeller the version the labeller was"
                    + " trained on).")
    String modelVersion;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the latent stream (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(
            names = "--truncation",
            defaultValue = "1",
            description = "Prior truncation psi in (0, 1]; 1 means none (default ${DEFAULT-VALUE}).")
    float truncation;

    @Option(
            names = "--shard-size",
            defaultValue = "1000",
            description = "Samples per shard (default ${DEFAULT-VALUE}).")
    int shardSize;

    @Option(
            names = "--batch-size",
            defaultValue = "0",
            description = "Samples per Kafka batch; 0 means the sampler's default. Never changes the samples.")
    int batchSize;

    @Option(
            names = "--labeller",
            description = "Label every sample with this labeller (adds {key}.mask.png and the uncertainty).")
    String labeller;

    @Option(
            names = "--drop-fraction",
            description = "Labelled jobs: share of the most uncertain samples to drop, in [0, 1) (default 0.1).")
    Float dropFraction;

    @Option(
            names = "--ignore-below",
            paramLabel = "CONFIDENCE",
            description = "Labelled jobs: write 255 (a loss's ignore index) in {key}.mask.png where the labeller's"
                    + " confidence is below this value, in (0, 1] (default: every pixel keeps its class).")
    Float ignoreBelow;

    @Option(names = "--output-topic", description = "Also publish every sample to this Kafka topic.")
    String outputTopic;

    @Option(
            names = "--gateway",
            defaultValue = "localhost:8080",
            description = "Gateway of a running stack (default ${DEFAULT-VALUE}); when none answers, the embedded"
                    + " stack is started for this job.")
    String gateway;

    @Option(
            names = "--models",
            description = "Model repository of the embedded stack (default: deploy/model-repository).")
    Path models;

    private final PrintStream log = System.err;

    @Override
    public Integer call() throws Exception {
        Path target = out.toAbsolutePath().normalize();
        AtomicReference<String> jobId = new AtomicReference<>();
        AtomicReference<DatasetServiceGrpc.DatasetServiceBlockingStub> client = new AtomicReference<>();
        Thread onInterrupt = new Thread(() -> cancel(client.get(), jobId.get()), "genaug-generate-cancel");
        Runtime.getRuntime().addShutdownHook(onInterrupt);
        try (StackConnection stack = StackConnection.open(gateway, services(), models, "generate", log)) {
            return run(stack.channel(), target, jobId, client);
        } catch (IllegalStateException e) {
            log.println("genaug generate: " + e.getMessage());
            return 1;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(onInterrupt);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C: the hook is running.
            }
        }
    }

    /** What the embedded stack needs for this job: a labeller generates and labels labelled jobs. */
    private List<String> services() {
        return labeller == null
                ? List.of("sampler", "generator", "gateway")
                : List.of("sampler", "labeller", "gateway");
    }

    private int run(
            ManagedChannel channel,
            Path target,
            AtomicReference<String> jobId,
            AtomicReference<DatasetServiceGrpc.DatasetServiceBlockingStub> client) {
        var datasets = DatasetServiceGrpc.newBlockingStub(channel);
        client.set(datasets);
        DatasetJob.Builder job = DatasetJob.newBuilder()
                .setModel(ModelRef.newBuilder().setName(model).setVersion(modelVersion))
                .setCount(count)
                .setSeed(seed)
                .setTruncationPsi(truncation)
                .setShardSize(shardSize)
                .setBatchSize(batchSize)
                .setOutput(target.toString());
        if (outputTopic != null) {
            job.setOutputTopic(outputTopic);
        }
        if (labeller != null) {
            job.setLabeller(ModelRef.newBuilder().setName(labeller));
        }
        if (ignoreBelow != null) {
            job.setIgnoreBelowConfidence(ignoreBelow);
        }
        if (dropFraction != null) {
            job.setDropFraction(dropFraction);
        }
        String id;
        try {
            id = datasets.withDeadlineAfter(60, TimeUnit.SECONDS)
                    .submitJob(SubmitJobRequest.newBuilder().setJob(job).build())
                    .getJobId();
        } catch (StatusRuntimeException e) {
            log.printf(
                    "genaug generate: the job was refused (%s): %s%n",
                    e.getStatus().getCode(), e.getStatus().getDescription());
            return 2;
        }
        jobId.set(id);
        log.printf("genaug generate: job %s, %d samples of %s into %s%n", id, count, model, target);
        ProgressBar bar = new ProgressBar(log, count, System.console() != null);
        JobStatus last = null;
        Iterator<JobStatus> updates =
                datasets.watchJob(WatchJobRequest.newBuilder().setJobId(id).build());
        long started = System.nanoTime();
        while (updates.hasNext()) {
            last = updates.next();
            bar.show(last.getSamplesDone(), last.getSamplesPerSecond(), last.getEtaSeconds());
        }
        bar.end();
        jobId.set(null);
        if (last == null) {
            log.println("genaug generate: the gateway ended the watch without a status");
            return 1;
        }
        if (last.getState() != JobState.JOB_STATE_SUCCEEDED) {
            log.printf(
                    "genaug generate: job %s %s: %s%n",
                    id, last.getState().name().replace("JOB_STATE_", "").toLowerCase(), last.getMessage());
            return 1;
        }
        double seconds = LocalStack.seconds(started);
        if (labeller != null) {
            try {
                var manifest = dev.genaug.api.dataset.v1.DatasetManifest.newBuilder();
                com.google.protobuf.util.JsonFormat.parser()
                        .ignoringUnknownFields()
                        .merge(java.nio.file.Files.readString(target.resolve("manifest.json")), manifest);
                System.out.printf(
                        "labelled by %s: %d samples kept, %d dropped as the most uncertain%s%n",
                        labeller,
                        manifest.getSamples(),
                        manifest.getDropped(),
                        manifest.hasDropThreshold()
                                ? String.format(" (uncertainty above %.4f nats)", manifest.getDropThreshold())
                                : "");
            } catch (java.io.IOException e) {
                log.println("genaug generate: cannot read the manifest: " + e.getMessage());
            }
        }
        System.out.printf(
                "%d samples in %.1f s (%.0f samples/s)%n  dataset  %s%n  manifest %s%n  preview  %s%n",
                count,
                seconds,
                count / seconds,
                target,
                target.resolve("manifest.json"),
                target.resolve("preview.png"));
        return 0;
    }

    /** On Ctrl-C: a job still running is cancelled, so the stack does not work on for nobody. */
    private void cancel(DatasetServiceGrpc.DatasetServiceBlockingStub datasets, String id) {
        if (datasets == null || id == null) {
            return;
        }
        try {
            JobStatus s = datasets.withDeadlineAfter(5, TimeUnit.SECONDS)
                    .cancelJob(CancelJobRequest.newBuilder().setJobId(id).build());
            log.printf("%ngenaug generate: interrupted; job %s %s%n", id, s.getMessage());
        } catch (StatusRuntimeException e) {
            log.printf("%ngenaug generate: interrupted; could not cancel job %s: %s%n", id, e.getStatus());
        }
    }

    /** One line redrawn in place on a terminal; otherwise a line at every tenth of the job. */
    static final class ProgressBar {
        private static final int WIDTH = 30;
        private final PrintStream out;
        private final long total;
        private final boolean redraw;
        private long lastDecile = -1;

        ProgressBar(PrintStream out, long total, boolean redraw) {
            this.out = out;
            this.total = total;
            this.redraw = redraw;
        }

        static String line(long done, long total, double rate, double eta) {
            double share = total == 0 ? 1 : Math.min(1, done / (double) total);
            int filled = (int) Math.round(share * WIDTH);
            return String.format(
                    "[%s%s] %3.0f%% %d/%d  %s  ETA %s",
                    "#".repeat(filled),
                    ".".repeat(WIDTH - filled),
                    share * 100,
                    done,
                    total,
                    rate > 0 ? String.format("%.0f samples/s", rate) : "- samples/s",
                    eta >= 0 ? String.format("%.0f s", eta) : "-");
        }

        void show(long done, double rate, double eta) {
            if (redraw) {
                out.print("\r" + line(done, total, rate, eta));
                out.flush();
                return;
            }
            long decile = total == 0 ? 10 : done * 10 / total;
            if (decile != lastDecile) {
                lastDecile = decile;
                out.println(line(done, total, rate, eta));
            }
        }

        void end() {
            if (redraw) {
                out.println();
            }
        }
    }
}

package dev.genaug.domain.dataset;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import dev.genaug.api.common.v1.Image;
import dev.genaug.api.dataset.v1.DatasetManifest;
import dev.genaug.api.dataset.v1.ModelUse;
import dev.genaug.api.dataset.v1.SampleMetadata;
import dev.genaug.api.dataset.v1.ShardEntry;
import dev.genaug.api.events.v1.DatasetJob;
import dev.genaug.api.events.v1.GeneratedBatch;
import dev.genaug.domain.error.FailedPreconditionException;
import dev.genaug.domain.error.InvalidArgumentException;
import dev.genaug.domain.files.Sha256;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Writes the generated samples of dataset jobs as WebDataset-style shards, whatever order and
 * however often the batches arrive.
 *
 * <p>Shard {@code i} of a job holds samples {@code [i * shardSize, (i + 1) * shardSize)}, so its
 * content depends only on the job spec, never on batching. The samples of a batch are first staged
 * as one file per shard they fall in, under {@code .staging/shard-<i>/}, named by their range
 * (written whole, then renamed: a redelivered batch replaces itself); the shard is assembled, in key
 * order, once its staged pieces cover every sample, and appears under its final name only when
 * complete. When the last shard is in place the
 * writer adds {@code preview.png} and, last, {@code manifest.json}, and removes the staging area.
 *
 * <p>All state is on disk, so a restarted writer, or several writers sharing the folder, carry on
 * where others stopped. Thread-safe.
 */
public final class DatasetWriter {
    public static final String MANIFEST = "manifest.json";
    public static final String PREVIEW = "preview.png";
    /** Sample keys: the global index zero-padded to this many digits (job counts are below 10^9). */
    public static final int KEY_DIGITS = 9;

    static final String STAGING = ".staging";
    private static final int DEFAULT_SHARD_SIZE = 1000;
    private static final int PREVIEW_COLUMNS = 8;
    private static final int PREVIEW_SAMPLES = 64;
    // Zeros and empty values print too (seed 0, sample index 0, a first shard's first index 0): a
    // reader finds every field without knowing protobuf's defaults. What only some jobs or samples
    // have (labeller, uncertainty, drop threshold) has presence and prints only when set.
    private static final JsonFormat.Printer SAMPLE_JSON = JsonFormat.printer()
            .alwaysPrintFieldsWithNoPresence()
            .omittingInsignificantWhitespace()
            .sortingMapKeys();
    private static final JsonFormat.Printer MANIFEST_JSON =
            JsonFormat.printer().alwaysPrintFieldsWithNoPresence().sortingMapKeys();

    private final Path defaultRoot;
    // Striped locks: staging and assembly of a shard, and finishing a job. Finishing takes its job
    // lock first and shard locks after, never the reverse, so the two sets cannot deadlock.
    private final Object[] shardLocks = stripes(64);
    private final Object[] jobLocks = stripes(16);

    private static Object[] stripes(int n) {
        Object[] locks = new Object[n];
        for (int i = 0; i < n; i++) {
            locks[i] = new Object();
        }
        return locks;
    }

    /** @param defaultRoot where jobs without an output folder go, one sub-folder per job id */
    public DatasetWriter(Path defaultRoot) {
        this.defaultRoot = defaultRoot;
    }

    /** How far a job's output has come. */
    public record Progress(long samplesDone, int shardsDone, boolean finished, Path output) {}

    /** What one write did: whether the dataset is now finished (manifest written), and where it is. */
    public record Written(boolean finished, Path output) {}

    // Shards seen in place, per job and folder. A shard once in place stays, so each is looked for
    // on disk until seen once: the per-batch completion check costs one look, not one per shard.
    private final ConcurrentHashMap<String, BitSet> assembled = new ConcurrentHashMap<>();

    public Path output(DatasetJob job) {
        return job.getOutput().isEmpty()
                ? defaultRoot.resolve(job.getJobId())
                : Path.of(job.getOutput()).toAbsolutePath();
    }

    public static int shardSize(DatasetJob job) {
        return job.getShardSize() > 0 ? job.getShardSize() : DEFAULT_SHARD_SIZE;
    }

    public static String key(long index) {
        return String.format("%0" + KEY_DIGITS + "d", index);
    }

    public static String shardName(long shard) {
        return String.format("shard-%06d.tar", shard);
    }

    /**
     * Checks a job's output folder at submission: it is created if missing and must be empty, so
     * a job never mixes its shards with another's.
     */
    public Path prepare(DatasetJob job) {
        Path out = output(job);
        try {
            Files.createDirectories(out);
        } catch (IOException | UnsupportedOperationException e) {
            throw new InvalidArgumentException("job.output", "cannot create folder '" + out + "': " + e);
        }
        if (!Files.isWritable(out)) {
            throw new InvalidArgumentException("job.output", "folder '" + out + "' is not writable");
        }
        try (Stream<Path> entries = Files.list(out)) {
            if (entries.findAny().isPresent()) {
                throw new FailedPreconditionException(
                        "job.output: folder '" + out + "' is not empty; give a new or empty folder");
            }
        } catch (IOException e) {
            throw new InvalidArgumentException("job.output", "cannot read folder '" + out + "': " + e);
        }
        return out;
    }

    /**
     * Stages one batch, assembles the shards it completes and, with the last one, finishes the
     * dataset. A batch of a finished job changes nothing.
     *
     * @throws InvalidArgumentException for a batch that contradicts its job (it cannot be written)
     * @throws UncheckedIOException when the file system fails (the batch should be retried)
     */
    public Written write(GeneratedBatch batch) {
        DatasetJob job = batch.getJob();
        check(batch);
        Path out = output(job);
        try {
            if (Files.exists(out.resolve(MANIFEST))) {
                return new Written(true, out);
            }
            int size = shardSize(job);
            long start = batch.getRange().getStart();
            int count = batch.getRange().getCount();
            // Shard by shard, under the shard's lock: staging and assembly of one shard never
            // interleave in this process (a redelivery racing its original).
            int i = 0;
            while (i < count) {
                long shard = (start + i) / size;
                int end = (int) Math.min(count, (shard + 1) * size - start);
                synchronized (lock(job.getJobId(), shard)) {
                    stageAndAssemble(out, job, batch, shard, i, end);
                }
                i = end;
            }
            if (allAssembled(out, job) && finish(out, batch)) {
                assembled.remove(cacheKey(job, out));
                return new Written(true, out);
            }
            return new Written(false, out);
        } catch (IOException e) {
            throw new UncheckedIOException("writing job " + job.getJobId() + " into " + out + ": " + e, e);
        }
    }

    /** Samples staged or in complete shards, read from the folder. */
    public Progress progress(DatasetJob job) {
        Path out = output(job);
        try {
            if (Files.exists(out.resolve(MANIFEST))) {
                return new Progress(job.getCount(), shardCount(job), true, out);
            }
            long done = 0;
            int shards = 0;
            int size = shardSize(job);
            BitSet known = known(job, out);
            for (int shard = 0; shard < shardCount(job); shard++) {
                if (inPlace(known, out, shard)) {
                    done += samplesIn(job, shard, size);
                    shards++;
                } else {
                    Path dir = stagingDir(out, shard);
                    if (Files.isDirectory(dir)) {
                        done += stagedSamples(dir, samplesIn(job, shard, size));
                    }
                }
            }
            return new Progress(done, shards, false, out);
        } catch (IOException e) {
            throw new UncheckedIOException("reading the output of job " + job.getJobId() + " in " + out, e);
        }
    }

    /** Jobs whose shards are remembered at once; beyond, the memory is dropped (it is only a cache). */
    private static final int CACHED_JOBS = 1024;

    private BitSet known(DatasetJob job, Path out) {
        if (assembled.size() > CACHED_JOBS) {
            assembled.clear(); // jobs that were cancelled or failed are never finished here
        }
        return assembled.computeIfAbsent(cacheKey(job, out), k -> new BitSet());
    }

    private static String cacheKey(DatasetJob job, Path out) {
        return job.getJobId() + "\u0000" + out;
    }

    private static boolean inPlace(BitSet known, Path out, int shard) {
        synchronized (known) {
            if (known.get(shard)) {
                return true;
            }
        }
        if (!Files.exists(out.resolve(shardName(shard)))) {
            return false;
        }
        synchronized (known) {
            known.set(shard);
        }
        return true;
    }

    /**
     * Whether every shard of the job is in place. Called after a batch's own shards are assembled,
     * so the writer that assembles the last shard sees them all; stops at the first shard missing.
     */
    private boolean allAssembled(Path out, DatasetJob job) {
        BitSet known = known(job, out);
        int shards = shardCount(job);
        int next;
        synchronized (known) {
            next = known.nextClearBit(0);
        }
        while (next < shards) {
            if (!inPlace(known, out, next)) {
                return false;
            }
            synchronized (known) {
                next = known.nextClearBit(next + 1);
            }
        }
        return true;
    }

    private static void check(GeneratedBatch batch) {
        DatasetJob job = batch.getJob();
        if (job.getJobId().isEmpty()) {
            throw new InvalidArgumentException("job.job_id", "a GeneratedBatch must carry its job");
        }
        long start = batch.getRange().getStart();
        int count = batch.getRange().getCount();
        if (count < 1 || start + count > job.getCount()) {
            throw new InvalidArgumentException(
                    "range",
                    "[" + start + ", " + (start + count) + ") is outside job " + job.getJobId() + " of "
                            + job.getCount() + " samples");
        }
        if (batch.getImagesCount() != count || batch.getProvenanceCount() != count) {
            throw new InvalidArgumentException(
                    "images",
                    batch.getImagesCount() + " images and " + batch.getProvenanceCount() + " provenance records for "
                            + count + " samples");
        }
        for (int i = 0; i < count; i++) {
            Image image = batch.getImages(i);
            if (image.getPng().isEmpty()) {
                throw new InvalidArgumentException("images[" + i + "]", "must be a PNG");
            }
        }
    }

    private static int shardCount(DatasetJob job) {
        int size = shardSize(job);
        return (int) ((job.getCount() + size - 1) / size);
    }

    private static int samplesIn(DatasetJob job, long shard, int size) {
        return (int) Math.min(size, job.getCount() - shard * size);
    }

    private static Path stagingDir(Path out, long shard) {
        return out.resolve(STAGING).resolve(String.format("shard-%06d", shard));
    }

    /** A staged piece: samples [start, start + count) of one batch, within one shard. */
    private record Piece(Path file, long start, int count) {}

    private static final String PIECE = ".samples";

    private static String pieceName(long start, int count) {
        return key(start) + "-" + count + PIECE;
    }

    private static List<Piece> pieces(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            List<Piece> list = new ArrayList<>();
            for (Path p : files.toList()) {
                String name = p.getFileName().toString();
                if (!name.endsWith(PIECE) || name.startsWith(".")) {
                    continue; // a temporary file of a piece being written
                }
                String[] parts =
                        name.substring(0, name.length() - PIECE.length()).split("-");
                list.add(new Piece(p, Long.parseLong(parts[0]), Integer.parseInt(parts[1])));
            }
            return list;
        } catch (NoSuchFileException e) {
            return List.of();
        }
    }

    /** Staged samples of a shard, at most {@code limit} (pieces of a redelivery may overlap). */
    private static long stagedSamples(Path dir, int limit) throws IOException {
        return Math.min(limit, pieces(dir).stream().mapToLong(Piece::count).sum());
    }

    private Object lock(String jobId, long shard) {
        return shardLocks[Math.floorMod(31 * jobId.hashCode() + Long.hashCode(shard), shardLocks.length)];
    }

    /** Stages rows [from, to) of the batch, all of one shard, then assembles it if complete. */
    private static void stageAndAssemble(Path out, DatasetJob job, GeneratedBatch batch, long shard, int from, int to)
            throws IOException {
        Path target = out.resolve(shardName(shard));
        Path dir = stagingDir(out, shard);
        // Another process may assemble the shard and remove its staging folder meanwhile: then
        // the shard is there and nothing is left to do; otherwise staging starts again.
        for (int attempt = 1; ; attempt++) {
            if (Files.exists(target)) {
                return; // a redelivery of an assembled shard: its bytes would be the same
            }
            try {
                Files.createDirectories(dir);
                // One file per batch and shard: a redelivered batch has the same range and name.
                GeneratedBatch.Builder piece = GeneratedBatch.newBuilder()
                        .setRange(dev.genaug.api.common.v1.SampleRange.newBuilder()
                                .setStart(batch.getRange().getStart() + from)
                                .setCount(to - from));
                boolean labelled = batch.getMasksCount() > 0;
                if (labelled) {
                    piece.setLabeller(batch.getLabeller());
                }
                for (int i = from; i < to; i++) {
                    piece.addImages(batch.getImages(i)).addProvenance(batch.getProvenance(i));
                    if (labelled) {
                        piece.addMasks(batch.getMasks(i))
                                .addUncertainty(batch.getUncertainty(i))
                                .addDropped(batch.getDropped(i));
                        if (batch.getIgnoredPixelsCount() > 0) {
                            piece.addIgnoredPixels(batch.getIgnoredPixels(i));
                        }
                    }
                }
                replace(
                        dir.resolve(pieceName(batch.getRange().getStart() + from, to - from)),
                        piece.build().toByteArray());
                assembleIfComplete(out, job, shard);
                return;
            } catch (NoSuchFileException e) {
                if (attempt >= 3) {
                    throw e;
                }
            }
        }
    }

    /**
     * Row i of a generated batch as its {key}.json describes it: key and provenance, and for a
     * labelled batch the labeller, the uncertainty and the ignored pixels.
     */
    public static SampleMetadata metadata(GeneratedBatch batch, int i) {
        SampleMetadata.Builder meta = SampleMetadata.newBuilder()
                .setKey(key(batch.getRange().getStart() + i))
                .setProvenance(batch.getProvenance(i));
        if (batch.getMasksCount() > 0) {
            meta.setLabeller(batch.getLabeller()).setUncertainty(batch.getUncertainty(i));
            if (batch.getIgnoredPixelsCount() > 0) {
                meta.setIgnoredPixels(batch.getIgnoredPixels(i));
            }
        }
        return meta.build();
    }

    private static void assembleIfComplete(Path out, DatasetJob job, long shard) throws IOException {
        int size = shardSize(job);
        int expected = samplesIn(job, shard, size);
        Path dir = stagingDir(out, shard);
        Path target = out.resolve(shardName(shard));
        if (Files.exists(target)) {
            return;
        }
        List<Piece> pieces = pieces(dir);
        if (pieces.stream().mapToLong(Piece::count).sum() < expected) {
            return;
        }
        long first = shard * size;
        byte[][] images = new byte[expected][];
        byte[][] masks = new byte[expected][];
        boolean[] dropped = new boolean[expected];
        byte[][] metadata = new byte[expected][];
        int present = 0;
        for (Piece piece : pieces) {
            GeneratedBatch samples;
            try {
                samples = GeneratedBatch.parseFrom(Files.readAllBytes(piece.file()));
            } catch (NoSuchFileException e) {
                return; // assembled and removed by another writer meanwhile
            }
            for (int i = 0; i < samples.getImagesCount(); i++) {
                long index = samples.getRange().getStart() + i;
                int slot = (int) (index - first);
                if (slot < 0 || slot >= expected || images[slot] != null) {
                    continue; // overlapping pieces hold the same sample
                }
                images[slot] = samples.getImages(i).getPng().toByteArray();
                if (samples.getMasksCount() > 0) {
                    masks[slot] = samples.getMasks(i).getPng().toByteArray();
                    dropped[slot] = samples.getDropped(i);
                }
                metadata[slot] = json(metadata(samples, i));
                present++;
            }
        }
        if (present < expected) {
            return;
        }
        ShardWriter writer = new ShardWriter(target);
        int written = 0;
        try (writer) {
            for (int slot = 0; slot < expected; slot++) {
                if (dropped[slot]) {
                    continue; // the uncertainty filter's decision: counted in the manifest
                }
                String key = key(first + slot);
                writer.add(key, "png", images[slot]);
                if (masks[slot] != null) {
                    writer.add(key, "mask.png", masks[slot]);
                }
                writer.add(key, "json", metadata[slot]);
                writer.sampleDone();
                written++;
            }
        }
        // The checksum computed while writing and the samples kept, for the manifest (which
        // otherwise reads the shard again).
        replace(digestFile(target), (writer.sha256() + " " + written).getBytes(StandardCharsets.US_ASCII));
        deleteTree(dir);
    }

    /**
     * Writes the preview and the manifest once every shard is assembled; false when a shard is
     * still being assembled elsewhere (its writer finishes the job then).
     */
    private boolean finish(Path out, GeneratedBatch batch) throws IOException {
        DatasetJob job = batch.getJob();
        // One finisher per job in this process; other processes finishing the same job write the
        // same bytes.
        synchronized (jobLocks[Math.floorMod(job.getJobId().hashCode(), jobLocks.length)]) {
            if (Files.exists(out.resolve(MANIFEST))) {
                return true;
            }
            // Every sample is staged, but another thread may not have assembled its shard yet.
            for (long shard = 0; shard < shardCount(job); shard++) {
                synchronized (lock(job.getJobId(), shard)) {
                    assembleIfComplete(out, job, shard);
                }
                if (!Files.exists(out.resolve(shardName(shard)))) {
                    return false;
                }
            }
            int size = shardSize(job);
            DatasetManifest.Builder manifest =
                    DatasetManifest.newBuilder().setFormatVersion(1).setJob(job).setKeyDigits(KEY_DIGITS);
            List<byte[]> previewImages = new ArrayList<>();
            long kept = 0;
            for (long shard = 0; shard < shardCount(job); shard++) {
                Path file = out.resolve(shardName(shard));
                ShardFacts facts = shardFacts(file);
                kept += facts.samples();
                manifest.addShards(ShardEntry.newBuilder()
                        .setName(shardName(shard))
                        .setFirstIndex(shard * size)
                        .setSamples((int) facts.samples())
                        .setBytes(Files.size(file))
                        .setSha256(facts.sha256()));
                if (previewImages.size() < PREVIEW_SAMPLES) {
                    readImages(file, PREVIEW_SAMPLES - previewImages.size(), previewImages);
                }
            }
            manifest.setSamples(kept).setDropped(job.getCount() - kept);
            if (batch.hasModel()) {
                manifest.addModels(ModelUse.newBuilder()
                        .setRole("generator")
                        .setModel(batch.getModel())
                        .setSha256(batch.getModelSha256()));
            }
            if (batch.hasLabeller()) {
                manifest.addModels(ModelUse.newBuilder()
                        .setRole("labeller")
                        .setModel(batch.getLabeller())
                        .setSha256(batch.getLabellerSha256()));
                manifest.addAllClassNames(batch.getClassNamesList());
                for (int c = 0; c < batch.getClassNamesCount(); c++) {
                    manifest.addPreviewColours(MaskOverlay.colourName(c));
                }
                if (batch.hasDropThreshold()) {
                    manifest.setDropThreshold(batch.getDropThreshold());
                }
            }
            if (!previewImages.isEmpty()) { // empty only when the filter dropped every sample
                replace(out.resolve(PREVIEW), PreviewGrid.of(previewImages, PREVIEW_COLUMNS));
                manifest.setPreview(PREVIEW);
            }
            replace(out.resolve(MANIFEST), print(MANIFEST_JSON, manifest).getBytes(StandardCharsets.UTF_8));
            deleteTree(out.resolve(STAGING));
            for (long shard = 0; shard < shardCount(job); shard++) {
                Files.deleteIfExists(digestFile(out.resolve(shardName(shard))));
            }
            return true;
        }
    }

    /** Up to limit preview pictures of a shard: each image, or its mask overlay when labelled. */
    private static void readImages(Path shard, int limit, List<byte[]> into) throws IOException {
        try (InputStream in = Files.newInputStream(shard);
                TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            int taken = 0;
            byte[] image = null;
            TarArchiveEntry entry;
            while (taken < limit && (entry = tar.getNextEntry()) != null) {
                String name = entry.getName();
                if (name.endsWith(".mask.png") && image != null) {
                    into.add(MaskOverlay.of(image, tar.readAllBytes()));
                    image = null;
                    taken++;
                } else if (name.endsWith(".png")) {
                    image = tar.readAllBytes();
                } else if (name.endsWith(".json") && image != null) {
                    into.add(image); // an unlabelled sample
                    image = null;
                    taken++;
                }
            }
        }
    }

    private record ShardFacts(String sha256, long samples) {}

    private static Path digestFile(Path shard) {
        return shard.resolveSibling("." + shard.getFileName() + ".sha256");
    }

    /** The shard's SHA-256 and samples: as recorded when it was assembled, else read from the file. */
    private static ShardFacts shardFacts(Path shard) throws IOException {
        try {
            String[] recorded = Files.readString(digestFile(shard), StandardCharsets.US_ASCII)
                    .split(" ");
            if (recorded.length == 2 && recorded[0].length() == 64) {
                return new ShardFacts(recorded[0], Long.parseLong(recorded[1]));
            }
        } catch (NoSuchFileException e) {
            // assembled by a writer that stopped before recording it
        }
        long samples = 0;
        try (InputStream in = Files.newInputStream(shard);
                TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                if (entry.getName().endsWith(".json")) {
                    samples++;
                }
            }
        }
        return new ShardFacts(Sha256.of(shard), samples);
    }

    /** Writes a file whole under a temporary name, then renames it over the target. */
    private static void replace(Path target, byte[] content) throws IOException {
        Path tmp = target.resolveSibling("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
        Files.write(tmp, content);
        try {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException e) {
            Files.deleteIfExists(tmp);
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // Another writer is deleting or refilling it (a redelivery); harmless.
                }
            }
        } catch (NoSuchFileException | UncheckedIOException e) {
            // Removed concurrently.
        }
    }

    static byte[] json(SampleMetadata metadata) {
        return print(SAMPLE_JSON, metadata).getBytes(StandardCharsets.UTF_8);
    }

    private static String print(JsonFormat.Printer printer, MessageOrBuilder message) {
        try {
            return printer.print(message);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("genaug messages print as JSON", e);
        }
    }
}

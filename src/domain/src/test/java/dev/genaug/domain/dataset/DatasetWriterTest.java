package dev.genaug.domain.dataset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.util.JsonFormat;
import dev.genaug.api.common.v1.Image;
import dev.genaug.api.common.v1.ModelRef;
import dev.genaug.api.common.v1.SampleRange;
import dev.genaug.api.dataset.v1.DatasetManifest;
import dev.genaug.api.events.v1.DatasetJob;
import dev.genaug.api.events.v1.GeneratedBatch;
import dev.genaug.domain.error.FailedPreconditionException;
import dev.genaug.domain.error.InvalidArgumentException;
import dev.genaug.domain.sampling.Provenances;
import dev.genaug.domain.tensor.ImageCodec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetWriterTest {
    private static final long COUNT = 50;
    private static final int SHARD = 16;

    @TempDir
    Path tmp;

    private static DatasetJob job(Path out) {
        return DatasetJob.newBuilder()
                .setJobId("job-1")
                .setModel(ModelRef.newBuilder().setName("toy"))
                .setCount(COUNT)
                .setSeed(7)
                .setShardSize(SHARD)
                .setOutput(out.toString())
                .build();
    }

    /** A distinct 4x4 image per sample index, as a generator would make. */
    private static byte[] png(long index) {
        byte[] chw = new byte[3 * 4 * 4];
        for (int i = 0; i < chw.length; i++) {
            chw[i] = (byte) (index * 31 + i * 7);
        }
        return ImageCodec.encodePng(chw, 3, 4, 4);
    }

    private static GeneratedBatch batch(DatasetJob job, long start, int count) {
        GeneratedBatch.Builder b = GeneratedBatch.newBuilder()
                .setJobId(job.getJobId())
                .setJob(job)
                .setRange(SampleRange.newBuilder().setStart(start).setCount(count))
                .setModel(ModelRef.newBuilder().setName("toy").setVersion("1"))
                .setModelSha256("ab".repeat(32));
        for (long i = start; i < start + count; i++) {
            b.addImages(Image.newBuilder()
                    .setPng(ByteString.copyFrom(png(i)))
                    .setWidth(4)
                    .setHeight(4)
                    .setChannels(3));
            b.addProvenance(Provenances.of("toy", 1, 7, i, "prior", Map.of("b", "2", "a", "1", "c", "3")));
        }
        return b.build();
    }

    private static List<GeneratedBatch> batches(DatasetJob job, int size) {
        List<GeneratedBatch> list = new ArrayList<>();
        for (long s = 0; s < job.getCount(); s += size) {
            list.add(batch(job, s, (int) Math.min(size, job.getCount() - s)));
        }
        return list;
    }

    /** Every file of the folder (staging excluded) with its bytes. */
    private static Map<String, byte[]> files(Path dir) throws IOException {
        Map<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> list = Files.list(dir)) {
            for (Path p : list.filter(Files::isRegularFile).toList()) {
                out.put(p.getFileName().toString(), Files.readAllBytes(p));
            }
        }
        return out;
    }

    private static List<String> members(Path tar) throws IOException {
        List<String> names = new ArrayList<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(Files.newInputStream(tar))) {
            TarArchiveEntry e;
            while ((e = in.getNextEntry()) != null) {
                names.add(e.getName());
            }
        }
        return names;
    }

    @Test
    void shouldWriteByteIdenticalDatasetsWhateverTheBatchingOrderAndRedeliveries() throws IOException {
        // In order, one batch size.
        DatasetJob a = job(tmp.resolve("a"));
        DatasetWriter writer = new DatasetWriter(tmp);
        writer.prepare(a);
        batches(a, 10).forEach(writer::write);

        // Another batch size (straddling shards), shuffled, with every third batch delivered twice,
        // and a restarted writer (a new instance) half way through.
        DatasetJob b = job(tmp.resolve("b"));
        new DatasetWriter(tmp).prepare(b);
        List<GeneratedBatch> delivery = new ArrayList<>(batches(b, 7));
        for (int i = 0; i < delivery.size(); i += 3) {
            delivery.add(delivery.get(i));
        }
        Collections.shuffle(delivery, new Random(5));
        DatasetWriter first = new DatasetWriter(tmp);
        DatasetWriter restarted = new DatasetWriter(tmp);
        for (int i = 0; i < delivery.size(); i++) {
            (i < delivery.size() / 2 ? first : restarted).write(delivery.get(i));
        }

        Map<String, byte[]> fa = files(tmp.resolve("a"));
        Map<String, byte[]> fb = files(tmp.resolve("b"));
        assertThat(fa.keySet())
                .containsExactly(
                        "manifest.json",
                        "preview.png",
                        "shard-000000.tar",
                        "shard-000001.tar",
                        "shard-000002.tar",
                        "shard-000003.tar");
        assertThat(fb.keySet()).isEqualTo(fa.keySet());
        for (String name : fa.keySet()) {
            if (!name.equals("manifest.json")) { // the manifest names the output folder, which differs
                assertThat(fb.get(name)).as(name).isEqualTo(fa.get(name));
            }
        }
        assertThat(tmp.resolve("a").resolve(DatasetWriter.STAGING)).doesNotExist();
        assertThat(tmp.resolve("b").resolve(DatasetWriter.STAGING)).doesNotExist();
    }

    @Test
    void shouldFinishWithIdenticalShardsWhenManyThreadsWriteAtOnce() throws Exception {
        DatasetJob a = job(tmp.resolve("a"));
        DatasetWriter serial = new DatasetWriter(tmp);
        serial.prepare(a);
        batches(a, 5).forEach(serial::write);
        for (int round = 0; round < 20; round++) {
            DatasetJob b = job(tmp.resolve("b" + round));
            DatasetWriter writer = new DatasetWriter(tmp);
            writer.prepare(b);
            List<GeneratedBatch> delivery = new ArrayList<>(batches(b, 3));
            delivery.addAll(batches(b, 4)); // every sample twice, in overlapping batches
            Collections.shuffle(delivery, new Random(round));
            var pool = java.util.concurrent.Executors.newFixedThreadPool(8);
            List<java.util.concurrent.Future<DatasetWriter.Written>> results = new ArrayList<>();
            for (GeneratedBatch batch : delivery) {
                results.add(pool.submit(() -> writer.write(batch)));
            }
            pool.shutdown();
            boolean finished = false;
            for (var r : results) {
                finished |= r.get().finished(); // a failed write would throw here
            }
            assertThat(finished).as("round " + round).isTrue();
            for (int shard = 0; shard < 4; shard++) {
                String name = DatasetWriter.shardName(shard);
                assertThat(Files.readAllBytes(tmp.resolve("b" + round).resolve(name)))
                        .as("round " + round + " " + name)
                        .isEqualTo(Files.readAllBytes(tmp.resolve("a").resolve(name)));
            }
            assertThat(tmp.resolve("b" + round).resolve(DatasetWriter.MANIFEST)).exists();
        }
    }

    @Test
    void shouldHoldEverySampleOnceInKeyOrderWithNoGaps() throws IOException {
        DatasetJob job = job(tmp.resolve("out"));
        DatasetWriter writer = new DatasetWriter(tmp);
        writer.prepare(job);
        List<GeneratedBatch> delivery = new ArrayList<>(batches(job, 9));
        delivery.addAll(batches(job, 9)); // everything redelivered
        Collections.shuffle(delivery, new Random(1));
        delivery.forEach(writer::write);

        List<String> all = new ArrayList<>();
        for (int shard = 0; shard < 4; shard++) {
            all.addAll(members(tmp.resolve("out").resolve(DatasetWriter.shardName(shard))));
        }
        List<String> expected = new ArrayList<>();
        for (long i = 0; i < COUNT; i++) {
            expected.add(DatasetWriter.key(i) + ".png");
            expected.add(DatasetWriter.key(i) + ".json");
        }
        assertThat(all).containsExactlyElementsOf(expected);
    }

    @Test
    void shouldDescribeEveryShardInTheManifestWithItsHash() throws IOException {
        DatasetJob job = job(tmp.resolve("out"));
        DatasetWriter writer = new DatasetWriter(tmp);
        writer.prepare(job);
        DatasetWriter.Written last = null;
        for (GeneratedBatch b : batches(job, 25)) {
            last = writer.write(b);
        }
        assertThat(last.finished()).isTrue();
        assertThat(writer.progress(job).samplesDone()).isEqualTo(COUNT);

        Path out = tmp.resolve("out");
        DatasetManifest.Builder manifest = DatasetManifest.newBuilder();
        JsonFormat.parser()
                .merge(Files.readString(out.resolve(DatasetWriter.MANIFEST), StandardCharsets.UTF_8), manifest);
        assertThat(manifest.getJob()).isEqualTo(job);
        assertThat(manifest.getSamples()).isEqualTo(COUNT);
        assertThat(manifest.getShardsList()).hasSize(4);
        assertThat(manifest.getShards(3).getSamples()).isEqualTo(2);
        assertThat(manifest.getShards(3).getFirstIndex()).isEqualTo(48);
        for (var shard : manifest.getShardsList()) {
            Path file = out.resolve(shard.getName());
            assertThat(shard.getSha256()).isEqualTo(dev.genaug.domain.files.Sha256.of(file));
            assertThat(shard.getBytes()).isEqualTo(Files.size(file));
        }
        assertThat(manifest.getModels(0).getModel().getVersion()).isEqualTo("1");
        assertThat(manifest.getModels(0).getSha256()).isEqualTo("ab".repeat(32));
        assertThat(manifest.getClassNamesList()).isEmpty(); // unlabelled
        assertThat(manifest.getPreviewColoursList()).isEmpty();
        assertThat(manifest.hasDropThreshold()).isFalse();
        var preview = ImageIO.read(out.resolve(DatasetWriter.PREVIEW).toFile());
        assertThat(preview.getWidth()).isEqualTo(8 * 4 + 9 * 2);
        assertThat(preview.getHeight()).isEqualTo(7 * 4 + 8 * 2); // 50 samples, 8 per row
    }

    /**
     * A labelled batch: sample i gets mask value i % 3 everywhere; multiples of 5 are dropped; i % 4
     * pixels are counted as ignored.
     */
    private static GeneratedBatch labelled(DatasetJob job, long start, int count) {
        GeneratedBatch.Builder b = batch(job, start, count).toBuilder()
                .setLabeller(ModelRef.newBuilder().setName("parts").setVersion("2"))
                .setLabellerSha256("cd".repeat(32))
                .addAllClassNames(List.of("background", "roof", "door"))
                .setDropThreshold(0.25f);
        for (long i = start; i < start + count; i++) {
            byte[] mask = new byte[16];
            java.util.Arrays.fill(mask, (byte) (i % 3));
            b.addMasks(Image.newBuilder()
                            .setPng(ByteString.copyFrom(ImageCodec.encodePng(mask, 1, 4, 4)))
                            .setWidth(4)
                            .setHeight(4)
                            .setChannels(1))
                    .addUncertainty(i / 100f)
                    .addDropped(i % 5 == 0)
                    .addIgnoredPixels((int) (i % 4));
        }
        return b.build();
    }

    @Test
    void shouldWriteMasksClassNamesAndTheDroppedCountAndThresholdWhenTheJobIsLabelled() throws IOException {
        DatasetJob job = job(tmp.resolve("out")).toBuilder()
                .setLabeller(ModelRef.newBuilder().setName("parts"))
                .build();
        DatasetWriter writer = new DatasetWriter(tmp);
        writer.prepare(job);
        List<GeneratedBatch> all = new ArrayList<>();
        for (long s = 0; s < COUNT; s += 7) {
            all.add(labelled(job, s, (int) Math.min(7, COUNT - s)));
        }
        java.util.Collections.reverse(all);
        all.add(all.get(2)); // a redelivery
        DatasetWriter.Written last = null;
        for (GeneratedBatch b : all) {
            last = writer.write(b);
        }
        assertThat(last.finished()).isTrue();

        Path out = tmp.resolve("out");
        DatasetManifest.Builder manifest = DatasetManifest.newBuilder();
        JsonFormat.parser().merge(Files.readString(out.resolve(DatasetWriter.MANIFEST)), manifest);
        long dropped = java.util.stream.LongStream.range(0, COUNT)
                .filter(i -> i % 5 == 0)
                .count();
        assertThat(manifest.getDropped()).isEqualTo(dropped);
        assertThat(manifest.getSamples()).isEqualTo(COUNT - dropped);
        assertThat(manifest.getShardsList().stream()
                        .mapToLong(sh -> sh.getSamples())
                        .sum())
                .isEqualTo(COUNT - dropped);
        assertThat(manifest.getModelsList())
                .extracting(m -> m.getRole() + ":" + m.getModel().getName() + ":" + m.getSha256())
                .containsExactly("generator:toy:" + "ab".repeat(32), "labeller:parts:" + "cd".repeat(32));
        assertThat(manifest.getClassNamesList()).containsExactly("background", "roof", "door");
        // The preview's first two pictures are samples 1 and 2 (0 is dropped), wholly class 1 and 2:
        // each pixel is half the image and half the colour the manifest gives the class.
        assertThat(manifest.getPreviewColoursList()).hasSize(3).first().isEqualTo("");
        var grid = ImageIO.read(out.resolve(DatasetWriter.PREVIEW).toFile());
        for (int c = 1; c <= 2; c++) {
            int colour = Integer.parseInt(manifest.getPreviewColours(c).substring(1), 16);
            int image = ImageIO.read(new java.io.ByteArrayInputStream(png(c))).getRGB(1, 1);
            int expected = 0;
            for (int shift = 0; shift <= 16; shift += 8) {
                expected |= ((((image >> shift) & 0xff) + ((colour >> shift) & 0xff)) / 2) << shift;
            }
            assertThat(grid.getRGB(2 + (c - 1) * 6 + 1, 3) & 0xffffff).isEqualTo(expected);
        }
        assertThat(manifest.getDropThreshold()).isEqualTo(0.25f);
        for (var shard : manifest.getShardsList()) {
            assertThat(shard.getSha256()).isEqualTo(dev.genaug.domain.files.Sha256.of(out.resolve(shard.getName())));
        }
        List<String> first = members(out.resolve(manifest.getShards(0).getName()));
        assertThat(first).startsWith("000000001.png", "000000001.mask.png", "000000001.json", "000000002.png");
        assertThat(first).noneMatch(n -> n.startsWith("000000000.") || n.startsWith("000000005."));
        try (TarArchiveInputStream in = new TarArchiveInputStream(
                Files.newInputStream(out.resolve(manifest.getShards(0).getName())))) {
            TarArchiveEntry e;
            while ((e = in.getNextEntry()) != null) {
                if (e.getName().equals("000000002.mask.png")) {
                    var mask = ImageIO.read(in);
                    assertThat(mask.getRaster().getSample(1, 1, 0)).isEqualTo(2);
                }
                if (e.getName().equals("000000002.json")) {
                    assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8))
                            .contains("\"uncertainty\":0.02")
                            .contains("\"ignoredPixels\":2")
                            .contains("\"labeller\":{\"name\":\"parts\",\"version\":\"2\"}");
                }
            }
        }
        assertThat(out.resolve(DatasetWriter.PREVIEW)).isRegularFile();
    }

    @Test
    void shouldWriteSortedProvenanceJsonBesideEachImage() throws IOException {
        DatasetJob job = job(tmp.resolve("out")).toBuilder().setCount(1).build();
        DatasetWriter writer = new DatasetWriter(tmp);
        writer.prepare(job);
        writer.write(batch(job, 0, 1));
        try (TarArchiveInputStream in = new TarArchiveInputStream(
                Files.newInputStream(tmp.resolve("out").resolve("shard-000000.tar")))) {
            in.getNextEntry();
            assertThat(in.readAllBytes()).isEqualTo(png(0));
            in.getNextEntry();
            String json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertThat(json)
                    .startsWith("{\"key\":\"000000000\",\"provenance\":{\"model\":\"toy\"")
                    .contains("\"parameters\":{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}");
        }
    }

    @Test
    void shouldSpellOutZeroSeedIndexAndCountsWhenTheJsonIsWritten() throws IOException {
        DatasetJob job =
                job(tmp.resolve("out")).toBuilder().setSeed(0).setCount(1).build();
        DatasetWriter writer = new DatasetWriter(tmp);
        writer.prepare(job);
        GeneratedBatch batch = batch(job, 0, 1).toBuilder()
                .setProvenance(0, Provenances.of("toy", 1, 0, 0, "prior", Map.of()))
                .build();
        writer.write(batch);
        Path out = tmp.resolve("out");
        try (TarArchiveInputStream in =
                new TarArchiveInputStream(Files.newInputStream(out.resolve("shard-000000.tar")))) {
            in.getNextEntry();
            in.getNextEntry();
            assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8))
                    .contains("\"seed\":\"0\"", "\"sampleIndex\":\"0\"", "\"parameters\":{}")
                    .doesNotContain("uncertainty", "ignoredPixels", "labeller"); // unlabelled
        }
        assertThat(Files.readString(out.resolve(DatasetWriter.MANIFEST)))
                .contains("\"seed\": \"0\"", "\"firstIndex\": \"0\"", "\"dropped\": \"0\"")
                .doesNotContain("dropThreshold");
    }

    @Test
    void shouldCountStagedAndAssembledSamplesAsProgress() {
        DatasetJob job = job(tmp.resolve("out"));
        DatasetWriter writer = new DatasetWriter(tmp);
        writer.prepare(job);
        writer.write(batch(job, 0, 20)); // shard 0 complete, 4 staged of shard 1
        writer.write(batch(job, 40, 5)); // 5 staged across shards 2 and 3
        DatasetWriter.Progress p = new DatasetWriter(tmp).progress(job);
        assertThat(p.samplesDone()).isEqualTo(25);
        assertThat(p.shardsDone()).isEqualTo(1);
        assertThat(p.finished()).isFalse();
    }

    @Test
    void shouldRefuseAnOutputFolderThatIsNotEmpty() throws IOException {
        Path out = Files.createDirectories(tmp.resolve("used"));
        Files.writeString(out.resolve("notes.txt"), "mine");
        assertThatThrownBy(() -> new DatasetWriter(tmp).prepare(job(out)))
                .isInstanceOf(FailedPreconditionException.class)
                .hasMessageContaining("job.output")
                .hasMessageContaining("not empty");
    }

    @Test
    void shouldRefuseAnOutputFolderThatCannotBeCreated() throws IOException {
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        assertThatThrownBy(() -> new DatasetWriter(tmp).prepare(job(file.resolve("sub"))))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("job.output");
    }

    @Test
    void shouldPutJobsWithoutOutputUnderTheDataFolder() {
        DatasetJob job = job(tmp).toBuilder().clearOutput().build();
        assertThat(new DatasetWriter(tmp).prepare(job)).isEqualTo(tmp.resolve("job-1"));
    }

    @Test
    void shouldRejectABatchOutsideItsJob() {
        DatasetJob job = job(tmp.resolve("out"));
        DatasetWriter writer = new DatasetWriter(tmp);
        writer.prepare(job);
        assertThatThrownBy(() -> writer.write(batch(job, 45, 10)))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("range")
                .hasMessageContaining("[45, 55)");
        GeneratedBatch missingImage =
                batch(job, 0, 3).toBuilder().removeImages(2).build();
        assertThatThrownBy(() -> writer.write(missingImage))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("2 images and 3 provenance records for 3 samples");
    }
}

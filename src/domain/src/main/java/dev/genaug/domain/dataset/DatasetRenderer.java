package dev.genaug.domain.dataset;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.genaug.api.dataset.v1.SampleMetadata;
import dev.genaug.domain.tensor.ImageCodec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongConsumer;

/**
 * Renders samples [start, start + count) of shapes-parts into WebDataset-style shards:
 * {@code shapes-parts-<seed>-<shard>.tar}, holding {@code <key>.png} (RGB),
 * {@code <key>.mask.png} (8-bit class ids) and {@code <key>.json} (SampleMetadata). The key is the
 * global index, zero-padded to 9 digits; shard n holds indices [start + n * shardSize, ...).
 */
public final class DatasetRenderer {
    // Zeros print too (seed 0, index 0, rotation 0), as in the shards of dataset jobs.
    private static final JsonFormat.Printer JSON =
            JsonFormat.printer().alwaysPrintFieldsWithNoPresence().omittingInsignificantWhitespace();

    private DatasetRenderer() {}

    /** A written shard and its checksum. */
    public record Shard(Path file, int samples, String sha256) {}

    public static String key(long index) {
        return String.format("%09d", index);
    }

    /**
     * @param progress called with the number of samples written so far
     */
    public static List<Shard> render(long seed, long start, long count, int shardSize, Path out, LongConsumer progress)
            throws IOException {
        if (count < 1 || shardSize < 1 || start < 0) {
            throw new IllegalArgumentException("count and shard size must be >= 1, start >= 0");
        }
        Files.createDirectories(out);
        List<Shard> shards = new ArrayList<>();
        long done = 0;
        for (long shardStart = start; shardStart < start + count; shardStart += shardSize) {
            long shardEnd = Math.min(start + count, shardStart + shardSize);
            Path file = out.resolve(
                    String.format("%s-%d-%06d.tar", ShapesParts.NAME, seed, (shardStart - start) / shardSize));
            ShardWriter writer = new ShardWriter(file);
            try (writer) {
                for (long i = shardStart; i < shardEnd; i++) {
                    ShapesParts.Sample s = ShapesParts.render(seed, i);
                    String key = key(i);
                    writer.add(key, "png", ImageCodec.encodePng(s.rgb(), 3, ShapesParts.SIZE, ShapesParts.SIZE));
                    writer.add(key, "mask.png", ImageCodec.encodePng(s.mask(), 1, ShapesParts.SIZE, ShapesParts.SIZE));
                    writer.add(
                            key,
                            "json",
                            json(SampleMetadata.newBuilder()
                                    .setKey(key)
                                    .setScene(s.scene())
                                    .build()));
                    writer.sampleDone();
                    progress.accept(++done);
                }
            }
            shards.add(new Shard(file, writer.samples(), writer.sha256()));
        }
        return shards;
    }

    static byte[] json(SampleMetadata metadata) {
        try {
            return JSON.print(metadata).getBytes(StandardCharsets.UTF_8);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }
}

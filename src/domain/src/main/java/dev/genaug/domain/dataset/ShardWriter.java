package dev.genaug.domain.dataset;

import dev.genaug.domain.files.Sha256;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Writes one WebDataset-style shard: a POSIX tar whose members are {@code <key>.<extension>},
 * the members of one sample adjacent. Headers are fixed (time 0, owner 0, mode 0644), so the same
 * samples always give the same bytes. The file appears under its final name only when complete.
 */
public final class ShardWriter implements AutoCloseable {
    private final Path target;
    private final Path partial;
    private final MessageDigest sha256;
    private final TarArchiveOutputStream tar;
    private int samples;

    public ShardWriter(Path target) throws IOException {
        this.target = target;
        // A name of its own: two writers of the same shard (a redelivered batch) never share a file.
        this.partial =
                target.resolveSibling("." + target.getFileName() + "." + java.util.UUID.randomUUID() + ".partial");
        this.sha256 = Sha256.newDigest();
        OutputStream out = new DigestOutputStream(
                Files.newOutputStream(
                        partial,
                        StandardOpenOption.CREATE,
                        StandardOpenOption.TRUNCATE_EXISTING,
                        StandardOpenOption.WRITE),
                sha256);
        this.tar = new TarArchiveOutputStream(new java.io.BufferedOutputStream(out, 1 << 16));
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
    }

    /** Adds one member, e.g. {@code add("000000042", "png", bytes)}. */
    public void add(String key, String extension, byte[] content) throws IOException {
        TarArchiveEntry entry = new TarArchiveEntry(key + "." + extension);
        entry.setSize(content.length);
        entry.setMode(0644);
        entry.setModTime(0);
        entry.setIds(0, 0);
        entry.setNames("", "");
        tar.putArchiveEntry(entry);
        tar.write(content);
        tar.closeArchiveEntry();
    }

    /** Counts a finished sample (for the caller's bookkeeping). */
    public void sampleDone() {
        samples++;
    }

    public int samples() {
        return samples;
    }

    /** Hex SHA-256 of the finished shard; valid after {@link #close()}. */
    public String sha256() {
        return Sha256.hex(sha256);
    }

    @Override
    public void close() throws IOException {
        tar.finish();
        tar.close();
        Files.move(
                partial,
                target,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
}

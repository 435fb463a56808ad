package dev.genaug.domain.repository;

import java.nio.file.Path;

/** A file of the model repository cannot be read or parsed; names the file and line. */
public final class ModelRepositoryException extends RuntimeException {
    private final Path file;
    private final int line;

    public ModelRepositoryException(Path file, int line, String problem, Throwable cause) {
        super(file + (line > 0 ? " line " + line : "") + ": " + problem, cause);
        this.file = file;
        this.line = line;
    }

    public Path file() {
        return file;
    }

    /** 1-based line of the problem, or 0 when it is not about one line. */
    public int line() {
        return line;
    }
}

package dev.genaug.domain.error;

/** The caller sent a value that can never be valid; the message names the field. */
public final class InvalidArgumentException extends GenaugException {
    private final String field;

    public InvalidArgumentException(String field, String problem) {
        super(field + ": " + problem);
        this.field = field;
    }

    /** The offending field as a path, e.g. {@code latents.shape[1]} or {@code images[3]}. */
    public String field() {
        return field;
    }
}

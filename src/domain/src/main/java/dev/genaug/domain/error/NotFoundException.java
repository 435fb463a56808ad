package dev.genaug.domain.error;

/** A named thing (model, version, job) does not exist. */
public final class NotFoundException extends GenaugException {
    public NotFoundException(String message) {
        super(message);
    }
}

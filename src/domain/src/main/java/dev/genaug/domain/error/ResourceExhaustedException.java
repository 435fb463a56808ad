package dev.genaug.domain.error;

/** A request is larger than a configured cap, or a bounded queue is full. */
public final class ResourceExhaustedException extends GenaugException {
    public ResourceExhaustedException(String message) {
        super(message);
    }
}

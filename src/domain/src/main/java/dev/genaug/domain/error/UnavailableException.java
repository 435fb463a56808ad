package dev.genaug.domain.error;

/** A dependency (inference server, broker) cannot be reached right now; retrying may help. */
public final class UnavailableException extends GenaugException {
    public UnavailableException(String message, Throwable cause) {
        super(message, cause);
    }

    public UnavailableException(String message) {
        super(message);
    }
}

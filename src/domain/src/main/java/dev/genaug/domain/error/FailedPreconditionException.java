package dev.genaug.domain.error;

/**
 * The request is well formed but the system is not in a state to serve it (for example a model
 * repository entry is broken, or a labeller belongs to another generator).
 */
public final class FailedPreconditionException extends GenaugException {
    public FailedPreconditionException(String message) {
        super(message);
    }

    public FailedPreconditionException(String message, Throwable cause) {
        super(message, cause);
    }
}

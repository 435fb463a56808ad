package dev.genaug.domain.error;

/**
 * Base of every failure the domain reports to a caller. Each subclass corresponds to one
 * canonical status; the adapters translate them in one place and never invent their own.
 */
public abstract sealed class GenaugException extends RuntimeException
        permits InvalidArgumentException,
                NotFoundException,
                ResourceExhaustedException,
                UnavailableException,
                FailedPreconditionException,
                CapabilityMissingException,
                CancelledException {

    protected GenaugException(String message) {
        super(message);
    }

    protected GenaugException(String message, Throwable cause) {
        super(message, cause);
    }
}

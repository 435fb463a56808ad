package dev.genaug.domain.error;

/**
 * The request is valid but this build of genaug lacks the capability that would serve it. The
 * message says exactly what is missing, so a caller never mistakes it for a result.
 */
public final class CapabilityMissingException extends GenaugException {
    public CapabilityMissingException(String message) {
        super(message);
    }
}

package dev.genaug.domain.error;

/** The caller went away or asked to stop; the work was abandoned and left nothing behind. */
public final class CancelledException extends GenaugException {
    public CancelledException(String message) {
        super(message);
    }
}

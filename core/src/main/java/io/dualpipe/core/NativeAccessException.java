package io.dualpipe.core;

/**
 * DualPipe cannot reach the operating system: JNR's native stub (jffi) could not be loaded, most
 * often because the JVM denies native access ({@code --illegal-native-access=deny} on JDK 22+), or
 * because the temporary directory it extracts the stub into is not executable. The message names
 * the flag or setting to add. Every later call fails the same way: the JVM cannot load the stub
 * twice.
 */
public class NativeAccessException extends DualPipeException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed and the flag or setting to add
     * @param cause   the error met loading the stub
     */
    public NativeAccessException(String message, Throwable cause) {
        super(message, cause);
    }
}

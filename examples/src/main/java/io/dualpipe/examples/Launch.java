package io.dualpipe.examples;

import java.lang.reflect.Method;
import java.util.Arrays;

/**
 * The examples jar's Main-Class, so that every example and benchmark runs with {@code java -jar}, and
 * so with the jar's {@code Enable-Native-Access: ALL-UNNAMED} (JDK 22+ honours it only for the jar
 * that {@code -jar} names):
 *
 * <pre>
 * java -jar examples/target/dualpipe-examples-0.1.0-SNAPSHOT.jar                       # Tour
 * java -jar examples/target/dualpipe-examples-0.1.0-SNAPSHOT.jar bench.ColdStart runs=10
 * </pre>
 *
 * The first argument names a class of {@code io.dualpipe.examples} (or a full class name); the rest
 * are its arguments.
 */
public final class Launch {
    private Launch() {
    }

    public static void main(String[] args) throws Throwable {
        String name = args.length == 0 ? "Tour" : args[0];
        String[] rest = args.length == 0 ? args : Arrays.copyOfRange(args, 1, args.length);
        Class<?> main;
        try {
            main = Class.forName(Launch.class.getPackageName() + "." + name);
        } catch (ClassNotFoundException e) {
            main = Class.forName(name);
        }
        Method m = main.getMethod("main", String[].class);
        try {
            m.invoke(null, (Object) rest);
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw e.getCause();
        }
    }
}

package io.dualpipe.process;

import io.dualpipe.core.InvalidArgumentException;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The command line that runs a Java class's {@code main} in a child JVM: the Java analogue of the
 * Python original's {@code DualPipe(target_func, *args)}. The child is a separate process (no fork of
 * this JVM), started by {@link ChildProcessBuilder} like any other program; inside it,
 * {@link ChildSide} reads stdin and writes stdout.
 *
 * <pre>{@code
 * ChildProcess child = JavaChild.builder(Worker.class, "--fast").start();        // the defaults
 * ChildProcess tuned = JavaChild.of(Worker.class).jvmOptions("-Xmx64m").args("--fast")
 *         .processBuilder().directory(tmp).start();                              // anything else
 * }</pre>
 *
 * <p><b>Defaults.</b> The java binary is the one running this JVM ({@code ProcessHandle} info, else
 * {@code java.home/bin/java}); the class path is this JVM's {@code java.class.path}, so the child sees
 * the same classes. JVM options are only what the caller gives: none of this JVM's options are
 * copied, since many (agents, debug ports, heap sizes) would be wrong for a child.
 *
 * <p><b>The JVM's own output goes to stderr.</b> A HotSpot JVM writes its unified-logging warnings
 * ({@code [0.006s][warning][perf,memops] Cannot use file /tmp/hsperfdata_root/42 because it is
 * locked}) and its diagnostic printing to stdout, where the parent would read them as the child's
 * first line or as a corrupt frame header. So the command starts with {@link #VM_OUTPUT_TO_STDERR}
 * ({@code -Xlog:disable -Xlog:all=warning:stderr:uptime,level,tags -XX:+DisplayVMOutputToStderr}),
 * which keeps those messages but sends them to stderr, on JDK 9 and later. Options given to
 * {@link #jvmOptions} come after it: an {@code -Xlog} of the caller's without an output
 * ({@code -Xlog:gc}, and {@code -verbose:gc}) still logs to stdout, so name one
 * ({@code -Xlog:gc:stderr}). For a java that rejects these options (a JDK 8, a non-HotSpot VM), turn
 * them off with {@link #vmOutputToStderr(boolean) vmOutputToStderr(false)}. Inside the child,
 * {@link ChildSide} keeps stdout for the protocol the same way for {@code System.out}.
 *
 * <p>Not thread-safe: configure on one thread. {@link #command()} and {@link #processBuilder()} take
 * a snapshot, so an instance may go on being changed and reused.
 */
public final class JavaChild {
    /**
     * The options that send the child JVM's own output to stderr: they clear unified logging's
     * default configuration (warnings and errors on stdout), log warnings and errors to stderr with
     * the default decorations instead, and route the VM's other console output ({@code tty}) there too.
     */
    public static final List<String> VM_OUTPUT_TO_STDERR = List.of(
            "-Xlog:disable", "-Xlog:all=warning:stderr:uptime,level,tags", "-XX:+DisplayVMOutputToStderr");

    private final String mainClass;
    private final List<String> jvmOptions = new ArrayList<>();
    private final List<String> args = new ArrayList<>();
    private String classPath;
    private Path javaBinary;
    private boolean vmOutputToStderr = true;

    private JavaChild(String mainClass) {
        this.mainClass = mainClass;
    }

    /**
     * The command for {@code mainClass}, which must declare {@code static void main(String[])}.
     *
     * @param mainClass the class to run
     * @return the command, with the defaults
     * @throws InvalidArgumentException when it does not (checked here, not as a late exit code 1)
     */
    public static JavaChild of(Class<?> mainClass) {
        InvalidArgumentException.requireNonNull("mainClass", mainClass);
        requireMain(mainClass);
        return new JavaChild(mainClass.getName());
    }

    /**
     * A builder that runs {@code mainClass} with {@code args} with the defaults above; stderr, cwd,
     * environment and loop are then set on the returned builder.
     *
     * @param mainClass the class to run, with a public {@code static void main(String[])}
     * @param args      the arguments passed to {@code main}
     * @return a builder for the child JVM
     * @throws InvalidArgumentException when {@code mainClass} has no such {@code main}
     */
    public static ChildProcessBuilder builder(Class<?> mainClass, String... args) {
        return of(mainClass).args(args).processBuilder();
    }

    private static void requireMain(Class<?> cls) {
        Method main;
        try {
            main = cls.getMethod("main", String[].class);
        } catch (NoSuchMethodException e) {
            throw new InvalidArgumentException(cls.getName() + " has no public main(String[]): the child JVM could not run it");
        }
        if (!Modifier.isStatic(main.getModifiers())) {
            throw new InvalidArgumentException(cls.getName() + ".main(String[]) is not static: the child JVM could not run it");
        }
    }

    /**
     * Options for the child JVM ({@code -Xmx64m}, {@code -Dkey=value}), added after earlier ones.
     *
     * @param options the options, none null
     * @return this object
     */
    public JavaChild jvmOptions(String... options) {
        addAll("jvmOptions", jvmOptions, options);
        return this;
    }

    /**
     * Program arguments passed to {@code main}, added after earlier ones.
     *
     * @param arguments the arguments, none null
     * @return this object
     */
    public JavaChild args(String... arguments) {
        addAll("args", args, arguments);
        return this;
    }

    /**
     * The child's class path ({@code File.pathSeparator}-separated). Default: this JVM's {@code java.class.path}.
     *
     * @param path the class path
     * @return this object
     */
    public JavaChild classPath(String path) {
        InvalidArgumentException.requireNonNull("classPath", path);
        this.classPath = path;
        return this;
    }

    /**
     * The child's class path as entries.
     *
     * @param entries the entries, none null
     * @return this object
     */
    public JavaChild classPath(List<Path> entries) {
        InvalidArgumentException.requireNonNull("classPath", entries);
        List<String> parts = new ArrayList<>();
        for (Path p : entries) {
            parts.add(InvalidArgumentException.requireNonNull("classPath entry", p).toString());
        }
        this.classPath = String.join(java.io.File.pathSeparator, parts);
        return this;
    }

    /**
     * The java launcher to run. Default: this JVM's.
     *
     * @param java the launcher's path
     * @return this object
     */
    public JavaChild javaBinary(Path java) {
        this.javaBinary = InvalidArgumentException.requireNonNull("javaBinary", java);
        return this;
    }

    /**
     * Whether the command starts with {@link #VM_OUTPUT_TO_STDERR}. Default: true. Turn it off only
     * for a java that does not know those options, or for a child whose stdout carries no protocol.
     *
     * @param on false to leave them out
     * @return this object
     */
    public JavaChild vmOutputToStderr(boolean on) {
        this.vmOutputToStderr = on;
        return this;
    }

    /**
     * {@return the command line, an immutable snapshot:
     * {@code java [VM_OUTPUT_TO_STDERR] [jvmOptions] -cp <classPath> <mainClass> [args]}}
     */
    public List<String> command() {
        List<String> cmd = new ArrayList<>();
        cmd.add((javaBinary != null ? javaBinary : currentJava()).toString());
        if (vmOutputToStderr) {
            cmd.addAll(VM_OUTPUT_TO_STDERR);
        }
        cmd.addAll(jvmOptions);
        String cp = classPath != null ? classPath : System.getProperty("java.class.path", "");
        if (!cp.isEmpty()) {
            cmd.add("-cp");
            cmd.add(cp);
        }
        cmd.add(mainClass);
        cmd.addAll(args);
        return List.copyOf(cmd);
    }

    /** {@return a new builder for {@link #command()}; stderr, cwd, environment and loop are set on it} */
    public ChildProcessBuilder processBuilder() {
        return ChildProcess.builder(command());
    }

    /** The launcher of this JVM: what the OS says it runs, else {@code java.home/bin/java}. */
    static Path currentJava() {
        Optional<String> running = ProcessHandle.current().info().command();
        if (running.isPresent() && Files.isExecutable(Path.of(running.get()))) {
            return Path.of(running.get());
        }
        return Path.of(System.getProperty("java.home"), "bin", "java");
    }

    private static void addAll(String what, List<String> to, String[] items) {
        InvalidArgumentException.requireNonNull(what, items);
        for (int i = 0; i < items.length; i++) {
            if (items[i] == null) {
                throw new InvalidArgumentException(what + "[" + i + "] is null");
            }
        }
        to.addAll(List.of(items));
    }

    @Override
    public String toString() {
        return "JavaChild[" + mainClass + " " + args + "]";
    }
}

/**
 * Child processes, started with {@code posix_spawn} and served by an event loop:
 * {@link io.dualpipe.process.ChildProcessBuilder} describes one, {@link io.dualpipe.process.ChildProcess}
 * is one running (stdin, stdout, stderr and extra pipes as streams, lines or requests; exit status;
 * signals), {@link io.dualpipe.process.Pipeline} links several as a shell's {@code a | b} does, and
 * {@link io.dualpipe.process.Command} runs one to completion with bounded output.
 * {@link io.dualpipe.process.JavaChild} and {@link io.dualpipe.process.ChildSide} are the two ends of
 * a Java class run in a child JVM.
 *
 * <p>The library reaps its own children only (never {@code waitpid(-1)}, never a SIGCHLD handler) and
 * leaves no zombie or descriptor behind: a failed start closes everything it opened.
 */
package io.dualpipe.process;

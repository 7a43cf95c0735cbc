/**
 * {@link io.dualpipe.DualPipe}: a child process behind a small blocking API ({@code write},
 * {@code read}, {@code readline}, {@code close}) for scripts and tests, every wait bounded by a
 * timeout, with the asynchronous {@link io.dualpipe.process.ChildProcess} underneath.
 */
package io.dualpipe;

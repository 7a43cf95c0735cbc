/**
 * Worker pools in pymulproc's shape: a {@link io.dualpipe.worker.WorkerPool} parent and N worker
 * children exchanging JSON {@link io.dualpipe.worker.Envelope}s in frames; {@link io.dualpipe.worker.Worker}
 * is the Java worker's side, and any program that speaks the frames (a Python script) can be one.
 * Needs Jackson, an optional dependency.
 */
package io.dualpipe.worker;

/**
 * Named pipes on the event loop: {@link io.dualpipe.fifo.Fifo} creates, checks, opens and deletes
 * FIFOs without ever blocking a thread on the other side, and never reuses a FIFO that another user
 * owns or whose mode is not the one asked for.
 */
package io.dualpipe.fifo;
